"""Calibration sessions: fair final levels across supervisors, per cycle and org unit.

A session covers the completed assessments of its cycle whose org unit (the snapshot taken when
the cycle opened) lies in the session unit's subtree. Adjusting a final level writes a
``CalibrationAdjustment`` (append-only); the supervisor's own level is never touched. The
workflows live in ``assessments/calibration/services.py``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import DecisionRecord
from accounts.models import OrgUnit
from accounts.permissions import Capability, has_capability, people_scope
from competency.models import Category, level_validators

from .workflow import Assessment, Cycle, Rating

GUIDE_LEVELS = (1, 2, 3, 4, 5)
GUIDE_FIELDS = tuple(f"guide_level_{level}" for level in GUIDE_LEVELS)
TOP_LEVELS = (4, 5)


class CalibrationSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """HR: every session; a head: sessions of units inside the subtrees they head; else none."""
        if has_capability(user, Capability.MANAGE_CYCLES):
            return self.all()
        if not has_capability(user, Capability.REVIEW):
            return self.none()
        q = Q(pk__in=[])
        for unit in people_scope(user).units:
            q |= Q(org_unit__path__startswith=unit.path)
        return self.filter(q)

    def closed_covering(self, assessment):
        """Closed sessions of the assessment's cycle whose subtree holds the assessment's unit."""
        # One query: the assessment's unit path is read inside it (a unit may have moved).
        unit_path = OrgUnit.objects.filter(pk=assessment.org_unit_id).values("path")[:1]
        return (
            self.filter(cycle_id=assessment.cycle_id, status=CalibrationSession.Status.CLOSED)
            .alias(assessment_path=Subquery(unit_path))
            .filter(assessment_path__startswith=F("org_unit__path"))
        )


class CalibrationSession(models.Model):
    """Calibration of one org unit's subtree in one cycle; closing it locks the final levels."""

    class Status(models.TextChoices):
        OPEN = "open", _("校准中")
        CLOSED = "closed", _("已结束")

    cycle = models.ForeignKey(
        Cycle,
        verbose_name=_("评估周期"),
        on_delete=models.PROTECT,
        related_name="calibration_sessions",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("单位（含下级）"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # The optional guide distribution: the share (%) of final levels HR expects per level. A
    # guide, never a forced curve: the page only warns where the top levels exceed it.
    guide_level_1 = models.PositiveSmallIntegerField(_("1级参考占比（%）"), null=True, blank=True)
    guide_level_2 = models.PositiveSmallIntegerField(_("2级参考占比（%）"), null=True, blank=True)
    guide_level_3 = models.PositiveSmallIntegerField(_("3级参考占比（%）"), null=True, blank=True)
    guide_level_4 = models.PositiveSmallIntegerField(_("4级参考占比（%）"), null=True, blank=True)
    guide_level_5 = models.PositiveSmallIntegerField(_("5级参考占比（%）"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = CalibrationSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("等级校准")
        verbose_name_plural = _("等级校准")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "org_unit"], name="uniq_calibration_per_cycle_unit"
            ),
            models.CheckConstraint(
                condition=Q(**{f"{name}__isnull": True for name in GUIDE_FIELDS})
                | Q(
                    **{f"{name}__isnull": False for name in GUIDE_FIELDS},
                    guide_level_1=100
                    - F("guide_level_2")
                    - F("guide_level_3")
                    - F("guide_level_4")
                    - F("guide_level_5"),
                ),
                name="calibration_guide_sums_to_100",
            ),
        ]

    def __str__(self):
        return f"{self.cycle} · {self.org_unit}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def guide(self) -> dict[int, int] | None:
        """The guide shares per level (summing to 100), or None when HR set none."""
        values = [getattr(self, name) for name in GUIDE_FIELDS]
        if any(v is None for v in values):
            return None
        return dict(zip(GUIDE_LEVELS, values, strict=True))

    @property
    def guide_top_share(self) -> int | None:
        guide = self.guide
        return None if guide is None else sum(guide[level] for level in TOP_LEVELS)

    def assessments(self):
        """The completed assessments this session calibrates (by the unit snapshot)."""
        return Assessment.objects.filter(
            cycle_id=self.cycle_id,
            status=Assessment.Status.COMPLETED,
            org_unit__path__startswith=self.org_unit.path,
        )

    def includes(self, assessment: Assessment) -> bool:
        """True when ``assessment`` (with its ``org_unit`` loaded) is calibrated here."""
        return (
            assessment.cycle_id == self.cycle_id
            and assessment.status == Assessment.Status.COMPLETED
            and assessment.org_unit is not None
            and assessment.org_unit.is_within(self.org_unit)
        )


class CalibrationEvent(DecisionRecord):
    """A recorded step of a session (opened, guide set, closed, reopened): never changed."""

    class Action(models.TextChoices):
        OPENED = "opened", _("发起校准")
        GUIDE_SET = "guide_set", _("设置参考分布")
        CLOSED = "closed", _("结束校准")
        REOPENED = "reopened", _("重新开启")

    session = models.ForeignKey(
        CalibrationSession,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("等级校准"),
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)

    class Meta(DecisionRecord.Meta):
        verbose_name = _("校准记录")
        verbose_name_plural = _("校准记录")

    def __str__(self):
        return f"{self.session} {self.get_action_display()}"


class CalibrationAdjustment(DecisionRecord):
    """One final level changed in a session: who, when, from, to and why (``note``); never changed.

    ``supervisor_level`` is the supervisor's level at that moment, kept beside the change.
    """

    session = models.ForeignKey(
        CalibrationSession,
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("等级校准"),
    )
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.PROTECT,
        related_name="calibration_adjustments",
        verbose_name=_("能力评估"),
    )
    rating = models.ForeignKey(
        Rating,
        on_delete=models.PROTECT,
        related_name="calibration_adjustments",
        verbose_name=_("类别评价"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("能力类别")
    )
    supervisor_level = models.PositiveSmallIntegerField(
        _("主管评价等级"), null=True, blank=True, validators=level_validators
    )
    from_level = models.PositiveSmallIntegerField(
        _("调整前等级"), null=True, blank=True, validators=level_validators
    )
    to_level = models.PositiveSmallIntegerField(_("调整后等级"), validators=level_validators)

    class Meta(DecisionRecord.Meta):
        verbose_name = _("等级调整")
        verbose_name_plural = _("等级调整")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_level__gte=1, to_level__lte=5), name="calibration_to_1_5"
            ),
            models.CheckConstraint(
                condition=Q(from_level__isnull=True) | ~Q(from_level=F("to_level")),
                name="calibration_changes_level",
            ),
            models.CheckConstraint(condition=~Q(note=""), name="calibration_reason_required"),
        ]
        indexes = [models.Index(fields=["rating", "at"], name="calib_adj_rating_at")]

    def __str__(self):
        return f"{self.assessment} {self.category.code}: {self.from_level} → {self.to_level}"
