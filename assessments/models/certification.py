"""Graded certification (分级认证): applications, their decisions, and the certificates issued.

An application asks for a grade on the strength of one completed assessment; the supervisor
approves or rejects, HR confirms (issuing a certificate) or sends it back. The workflows live in
``assessments/certification/services.py``; this module keeps the rules of one row.
"""

import calendar
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import DecisionRecord
from accounts.permissions import ASSESSMENT_WIDE_ROLES, person_visibility_q, supervised_q
from competency.models import Grade

from .workflow import Assessment, Cycle

# Crockford's base32: no I, L, O or U, so a number read out or typed in is not misread.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM_CHARS = 16  # 80 random bits
EXPIRY_NOTICE_DAYS = 30


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def new_certificate_number(year: int) -> str:
    """An unguessable number such as ``TS-2026-K7QD-M2XA-P9RT-W3HZ``."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _i in range(NUMBER_RANDOM_CHARS))
    groups = [chars[i : i + 4] for i in range(0, NUMBER_RANDOM_CHARS, 4)]
    return f"TS-{year}-{'-'.join(groups)}"


def normalize_certificate_number(text: str) -> str:
    """What a person typed, in the stored form (case and surrounding spaces ignored)."""
    return "".join((text or "").split()).upper()[:40]


class CertificationApplicationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Applications of the people ``user`` may see: own, headed subtrees, or all for HR."""
        return self.filter(person_visibility_q(user, "person", ASSESSMENT_WIDE_ROLES))

    def supervised_by(self, user):
        """Applications of the people ``user`` rates as supervisor (never their own)."""
        return self.filter(supervised_q(user, "person"))

    def open(self):
        return self.filter(status__in=CertificationApplication.OPEN_STATUSES)


class CertificationApplication(models.Model):
    """A request for a grade from one completed assessment: at most one open per person and cycle."""

    class Status(models.TextChoices):
        SUPERVISOR_PENDING = "supervisor_pending", _("待主管审批")
        HR_PENDING = "hr_pending", _("待人力资源确认")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已驳回")

    OPEN_STATUSES = (Status.SUPERVISOR_PENDING, Status.HR_PENDING)

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="certification_applications",
    )
    cycle = models.ForeignKey(
        Cycle, verbose_name=_("评估周期"), on_delete=models.PROTECT, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("能力评估"),
        on_delete=models.PROTECT,
        related_name="certification_applications",
    )
    grade = models.ForeignKey(
        Grade, verbose_name=_("申请等级"), on_delete=models.PROTECT, related_name="+"
    )
    # The highest grade the final levels met when applying (they never change afterwards).
    eligible_grade = models.ForeignKey(
        Grade,
        verbose_name=_("可申请的最高等级"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUPERVISOR_PENDING,
        db_index=True,
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最近处理时间"), default=timezone.now)

    objects = CertificationApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("认证申请")
        verbose_name_plural = _("认证申请")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "cycle"],
                condition=Q(status__in=["supervisor_pending", "hr_pending"]),
                name="uniq_open_certification_application",
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.grade.code} · {self.cycle}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CertificateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Certificates of the people ``user`` may see: own, headed subtrees, or all for HR."""
        return self.filter(person_visibility_q(user, "person", ASSESSMENT_WIDE_ROLES))

    def in_state(self, state: str, today: date):
        """By the state a reader sees today (a lapsed certificate is expired before the task runs)."""
        lapsed = Q(status=Certificate.Status.VALID, valid_until__lt=today)
        if state == Certificate.Status.VALID:
            return self.filter(status=Certificate.Status.VALID, valid_until__gte=today)
        if state == Certificate.Status.EXPIRED:
            return self.filter(Q(status=Certificate.Status.EXPIRED) | lapsed)
        return self.filter(status=state)

    def matching(self, text: str):
        """By part of the holder's printed name, employee number or the certificate number."""
        return self.filter(
            Q(holder_name__icontains=text)
            | Q(person__employee_no__icontains=text)
            | Q(number__icontains=text)
        )

    def expiring(self, today: date, days: int = EXPIRY_NOTICE_DAYS):
        """Still valid, and lapsing within ``days`` days."""
        return self.filter(
            status=Certificate.Status.VALID,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=days),
        )


class Certificate(models.Model):
    """A confirmed grade with a unique, unguessable number: valid until a date, or revoked by HR."""

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        EXPIRED = "expired", _("已过期")
        REVOKED = "revoked", _("已撤销")

    number = models.CharField(_("证书编号"), max_length=40, unique=True)
    application = models.OneToOneField(
        CertificationApplication,
        verbose_name=_("认证申请"),
        on_delete=models.PROTECT,
        related_name="certificate",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持证人"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    grade = models.ForeignKey(
        Grade, verbose_name=_("认证等级"), on_delete=models.PROTECT, related_name="certificates"
    )
    # The name as printed: a later change of the person's name does not rewrite the certificate.
    holder_name = models.CharField(_("持证人姓名"), max_length=150)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.VALID, db_index=True
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    expiry_notice_sent_at = models.DateTimeField(_("到期提醒发送时间"), null=True, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("认证证书")
        verbose_name_plural = _("认证证书")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("issued_on")),
                name="certificate_valid_after_issue",
            ),
        ]

    def __str__(self):
        return self.number

    @staticmethod
    def validity_end(issued_on: date, months: int) -> date:
        """The last valid day: ``months`` whole months after issue, less one day."""
        return add_months(issued_on, months) - timedelta(days=1)

    def state(self, today: date) -> str:
        """Valid, expired or revoked as of ``today`` (whether or not the daily task has run)."""
        if self.status == self.Status.VALID and self.valid_until < today:
            return self.Status.EXPIRED
        return self.status

    def state_label(self, today: date) -> str:
        return self.Status(self.state(today)).label


class CertificationEvent(DecisionRecord):
    """A recorded step of an application or its certificate (who, when, what, why): never changed."""

    class Action(models.TextChoices):
        APPLIED = "applied", _("已申请")
        APPROVED = "approved", _("主管已同意")
        REJECTED = "rejected", _("主管已驳回")
        SENT_BACK = "sent_back", _("人力资源退回主管")
        CONFIRMED = "confirmed", _("人力资源已确认，证书已颁发")
        REVOKED = "revoked", _("证书已撤销")
        EXPIRED = "expired", _("证书已过期")
        EXPIRY_NOTICE = "expiry_notice", _("已发送到期提醒")

    application = models.ForeignKey(
        CertificationApplication,
        verbose_name=_("认证申请"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    certificate = models.ForeignKey(
        Certificate,
        verbose_name=_("认证证书"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)

    class Meta(DecisionRecord.Meta):
        verbose_name = _("认证记录")
        verbose_name_plural = _("认证记录")

    def __str__(self):
        return f"{self.application} {self.get_action_display()}"
