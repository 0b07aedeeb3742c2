"""The profile feature's data: the learning-resource catalogue and the personal development plan.

Both are keyed by category CODE, not by a versioned ``Category`` row, so that they outlive the
publication of new model versions.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import DecisionRecord
from accounts.i18n import BilingualMixin
from competency.models import Category, level_validators


class LearningResourceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class LearningResource(BilingualMixin, models.Model):
    """Something to learn for one category up to a target level: a link or an internal course."""

    title_zh = models.CharField(_("标题（中文）"), max_length=200)
    title_en = models.CharField(_("标题（英文）"), max_length=200, blank=True)
    url = models.URLField(_("链接"), max_length=500, blank=True)
    course_code = models.CharField(_("课程编号"), max_length=64, blank=True)
    category_code = models.CharField(
        _("能力类别编码"),
        max_length=16,
        db_index=True,
        help_text=_("能力类别的编码（例如 1.3），跨模型版本保持不变。"),
    )
    target_level = models.PositiveSmallIntegerField(
        _("目标等级"),
        validators=level_validators,
        help_text=_("学完后可达到的等级（1–5）。"),
    )
    language = models.CharField(
        _("资源语言"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = LearningResourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("学习资源")
        verbose_name_plural = _("学习资源")
        ordering = ["category_code", "target_level", "title_zh"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(course_code=""), name="resource_link_or_course"
            ),
            models.CheckConstraint(
                condition=Q(target_level__gte=1, target_level__lte=5),
                name="resource_target_level_1_5",
            ),
        ]

    def __str__(self):
        return f"{self.category_code} L{self.target_level} {self.title}"

    @property
    def title(self) -> str:
        return self.localized("title")

    def clean(self):
        if not self.url and not self.course_code:
            raise ValidationError(_("请填写链接或课程编号（至少一项）。"))
        if self.category_code and not Category.objects.filter(code=self.category_code).exists():
            raise ValidationError({"category_code": _("没有这个编码的能力类别。")})


class DevelopmentGoal(models.Model):
    """A goal in a person's development plan: written by the person, commented on by supervisors."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划中")
        IN_PROGRESS = "in_progress", _("进行中")
        DONE = "done", _("已完成")
        DROPPED = "dropped", _("已放弃")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.PROTECT,
        related_name="development_goals",
    )
    title = models.CharField(_("目标描述"), max_length=300)
    category_code = models.CharField(_("能力类别编码"), max_length=16)
    due_date = models.DateField(_("完成期限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("发展目标")
        verbose_name_plural = _("发展目标")
        ordering = ["person", "due_date", "pk"]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.PLANNED, self.Status.IN_PROGRESS}


class GoalComment(DecisionRecord):
    """A supervisor's comment on a development goal (``note``): written once, never changed."""

    goal = models.ForeignKey(
        DevelopmentGoal,
        on_delete=models.PROTECT,
        related_name="comments",
        verbose_name=_("发展目标"),
    )

    class Meta(DecisionRecord.Meta):
        verbose_name = _("目标评语")
        verbose_name_plural = _("目标评语")

    def __str__(self):
        return f"{self.goal} · {self.actor}"
