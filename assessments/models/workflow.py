"""Assessment cycles, one assessment per participant, the ratings inside it, evidence, decisions.

This module holds the data and the rules about one object; the workflows (open a cycle, submit,
return, complete, close) live in ``services.py``.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import DecisionRecord
from accounts.models import OrgUnit
from accounts.permissions import ASSESSMENT_WIDE_ROLES, person_visibility_q
from competency.models import Category, Industry, ModelVersion, level_validators
from competency.profiles import Shape


class Cycle(models.Model):
    """An assessment cycle run by HR over a published model version: draft → open → closed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已结束")

    class FinalRule(models.TextChoices):
        SUPERVISOR = "supervisor", _("以主管评价为准")
        WEIGHTED = "weighted", _("自评与主管评价加权")

    name = models.CharField(_("名称"), max_length=200)
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("模型版本"), on_delete=models.PROTECT, related_name="cycles"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    self_deadline = models.DateField(_("自评截止日期"))
    review_deadline = models.DateField(_("主管评价截止日期"))
    reminder_days = models.PositiveSmallIntegerField(
        _("提前提醒天数"),
        default=3,
        validators=[MaxValueValidator(30)],
        help_text=_("截止日期前多少天发送提醒邮件。"),
    )
    final_rule = models.CharField(
        _("最终等级规则"), max_length=16, choices=FinalRule.choices, default=FinalRule.SUPERVISOR
    )
    self_weight = models.DecimalField(
        _("自评权重"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.30"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("加权规则下自评所占比例（0–1），主管评价占其余部分。"),
    )
    participant_units = models.ManyToManyField(
        OrgUnit, verbose_name=_("参与单位（含下级）"), blank=True, related_name="+"
    )
    participant_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("参与人员"), blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    opened_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评估周期")
        verbose_name_plural = _("评估周期")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_deadline__gte=models.F("self_deadline")),
                name="cycle_review_after_self",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # An open or closed cycle keeps its model version, whatever path tries to change it.
        if self.pk is not None:
            stored = (
                type(self).objects.filter(pk=self.pk).values("status", "model_version_id").first()
            )
            if (
                stored
                and stored["status"] != self.Status.DRAFT
                and stored["model_version_id"] != self.model_version_id
            ):
                raise ValidationError({"model_version": _("已开始的评估周期不能更换模型版本。")})
        super().save(*args, **kwargs)

    def clean(self):
        if (
            self.self_deadline
            and self.review_deadline
            and self.review_deadline < self.self_deadline
        ):
            raise ValidationError({"review_deadline": _("主管评价截止日期不能早于自评截止日期。")})
        if (
            self.status == self.Status.DRAFT
            and self.model_version_id
            and self.model_version.status != ModelVersion.Status.PUBLISHED
        ):
            raise ValidationError({"model_version": _("评估周期只能使用已发布的模型版本。")})

    def final_level(self, self_level: int | None, supervisor_level: int | None) -> int | None:
        """The final level from the two ratings under this cycle's rule (half rounds up)."""
        if supervisor_level is None:
            return None
        if self.final_rule == self.FinalRule.SUPERVISOR or self_level is None:
            return supervisor_level
        weighted = self.self_weight * self_level + (1 - self.self_weight) * supervisor_level
        return int(weighted.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class AssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Assessments of the people ``user`` may see: own, headed subtrees, or all for HR."""
        return self.filter(person_visibility_q(user, "person", ASSESSMENT_WIDE_ROLES))

    def completed(self):
        return self.filter(status=Assessment.Status.COMPLETED)


class Assessment(models.Model):
    """One participant's assessment in one cycle: self ratings, supervisor ratings, final levels."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        SELF_IN_PROGRESS = "self_in_progress", _("自评中")
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回")
        COMPLETED = "completed", _("已完成")
        NOT_COMPLETED = "not_completed", _("未完成")

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("评估周期"), on_delete=models.PROTECT, related_name="assessments"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("被评估人"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属单位（开始时）"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_grade = models.CharField(_("目标职级"), max_length=16, blank=True)
    # Database defaults too: opening a cycle inserts rows set-based, naming only the key columns.
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.NOT_STARTED,
        db_default=Status.NOT_STARTED,
        db_index=True,
    )
    self_comment = models.TextField(_("自评总结"), blank=True, default="", db_default="")
    supervisor_comment = models.TextField(_("主管评语"), blank=True, default="", db_default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_assessments",
    )
    self_saved_at = models.DateTimeField(_("自评保存时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    classification = models.CharField(
        _("T型分类"), max_length=16, choices=Shape.choices, blank=True, default="", db_default=""
    )
    # Bumped by every write: a page that saves with an older revision is told it is stale
    # instead of overwriting someone else's change.
    revision = models.PositiveIntegerField(_("修订号"), default=0, db_default=0)
    last_save_token = models.CharField(
        max_length=64, blank=True, editable=False, default="", db_default=""
    )

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("能力评估")
        verbose_name_plural = _("能力评估")
        ordering = ["cycle", "person"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "person"], name="uniq_assessment_per_cycle"),
        ]

    def __str__(self):
        return f"{self.cycle} · {self.person}"

    @property
    def is_final(self):
        return self.status in {self.Status.COMPLETED, self.Status.NOT_COMPLETED}

    @property
    def self_editable(self) -> bool:
        """The manager may still change the self-assessment (the cycle must be open too)."""
        return self.status in SELF_EDITABLE

    @property
    def reviewable(self) -> bool:
        return self.status == self.Status.SUBMITTED

    def is_late(self, today) -> bool:
        """Past the deadline of the phase the assessment is waiting in."""
        if self.status in SELF_EDITABLE:
            return today > self.cycle.self_deadline
        if self.status == self.Status.SUBMITTED:
            return today > self.cycle.review_deadline
        return False


SELF_EDITABLE = frozenset(
    {
        Assessment.Status.NOT_STARTED,
        Assessment.Status.SELF_IN_PROGRESS,
        Assessment.Status.RETURNED,
    }
)

# The state machine: step → (states it may start from, state it ends in). Services apply a step
# with a conditional UPDATE on (status, revision), so two people acting at once cannot both win.
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "start": (frozenset({Assessment.Status.NOT_STARTED}), Assessment.Status.SELF_IN_PROGRESS),
    "submit": (SELF_EDITABLE, Assessment.Status.SUBMITTED),
    "return": (frozenset({Assessment.Status.SUBMITTED}), Assessment.Status.RETURNED),
    "complete": (frozenset({Assessment.Status.SUBMITTED}), Assessment.Status.COMPLETED),
    "expire": (
        SELF_EDITABLE | {Assessment.Status.SUBMITTED},
        Assessment.Status.NOT_COMPLETED,
    ),
}


class Rating(models.Model):
    """One category of one assessment: the self level, the supervisor level and the final level."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("能力评估")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("能力类别")
    )
    self_level = models.PositiveSmallIntegerField(
        _("自评等级"), null=True, blank=True, validators=level_validators
    )
    self_comment = models.TextField(_("自评说明"), blank=True, default="", db_default="")
    supervisor_level = models.PositiveSmallIntegerField(
        _("主管评价等级"), null=True, blank=True, validators=level_validators
    )
    supervisor_comment = models.TextField(_("主管评语"), blank=True, default="", db_default="")
    final_level = models.PositiveSmallIntegerField(
        _("最终等级"), null=True, blank=True, validators=level_validators
    )

    class Meta:
        verbose_name = _("类别评价")
        verbose_name_plural = _("类别评价")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "category"], name="uniq_rating"),
            models.CheckConstraint(
                condition=Q(self_level__isnull=True) | Q(self_level__gte=1, self_level__lte=5),
                name="rating_self_1_5",
            ),
            models.CheckConstraint(
                condition=Q(supervisor_level__isnull=True)
                | Q(supervisor_level__gte=1, supervisor_level__lte=5),
                name="rating_supervisor_1_5",
            ),
            models.CheckConstraint(
                condition=Q(final_level__isnull=True) | Q(final_level__gte=1, final_level__lte=5),
                name="rating_final_1_5",
            ),
        ]

    def __str__(self):
        return f"{self.assessment} · {self.category.code}"


class IndustryRating(models.Model):
    """Research depth in one industry (the stem of the T), rated by self and supervisor."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="industry_ratings",
        verbose_name=_("能力评估"),
    )
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, related_name="+", verbose_name=_("行业")
    )
    self_depth = models.PositiveSmallIntegerField(
        _("自评深度"), null=True, blank=True, validators=level_validators
    )
    supervisor_depth = models.PositiveSmallIntegerField(
        _("主管评价深度"), null=True, blank=True, validators=level_validators
    )
    final_depth = models.PositiveSmallIntegerField(
        _("最终深度"), null=True, blank=True, validators=level_validators
    )
    evidence = models.TextField(_("佐证（行业分析 / 客户SWOT）"), blank=True)

    class Meta:
        verbose_name = _("行业深度评价")
        verbose_name_plural = _("行业深度评价")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "industry"], name="uniq_industry_rating"),
        ]

    def __str__(self):
        return f"{self.assessment} · {self.industry.code}"


class AssessmentEvent(DecisionRecord):
    """A recorded decision on an assessment (submitted, returned, completed…): never changed."""

    class Action(models.TextChoices):
        OPENED = "opened", _("已开始")
        SELF_SUBMITTED = "self_submitted", _("已提交自评")
        RETURNED = "returned", _("已退回")
        COMPLETED = "completed", _("已完成评价")
        NOT_COMPLETED = "not_completed", _("未完成（周期结束）")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="events", verbose_name=_("能力评估")
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)

    class Meta(DecisionRecord.Meta):
        verbose_name = _("评估记录")
        verbose_name_plural = _("评估记录")

    def __str__(self):
        return f"{self.assessment} {self.get_action_display()}"


def evidence_path(instance, filename: str) -> str:
    """A random name under the cycle's folder: the uploaded name is kept in the row, never on disk."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"evidence/{instance.assessment.cycle_id}/{uuid.uuid4().hex}{suffix}"


class Evidence(models.Model):
    """A file backing a self rating (a category or an industry), seen only by who sees the assessment."""

    MAX_BYTES = 10 * 1024 * 1024
    # The extensions a person may attach; what each must contain and is served as is
    # config.uploads.KINDS' business.
    ALLOWED_SUFFIXES = (
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".png",
        ".jpg",
        ".jpeg",
        ".txt",
    )

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("能力评估")
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("能力类别"),
    )
    industry = models.ForeignKey(
        Industry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("行业"),
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(industry__isnull=True),
                name="evidence_one_subject",
            ),
        ]

    def __str__(self):
        return self.original_name
