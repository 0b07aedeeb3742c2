"""The versioned competency model. A published version is immutable: every write path is guarded."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import DecisionRecord
from accounts.i18n import BilingualMixin

LEVEL_VALUES = range(1, 6)
level_validators = [MinValueValidator(1), MaxValueValidator(5)]
depth_validators = [MinValueValidator(0), MaxValueValidator(5)]


class PublishedVersionImmutable(ValidationError):
    """Raised on any attempt to change a version that is no longer a draft."""

    def __init__(self):
        super().__init__(_("已发布或已停用的模型版本不可修改；请基于它创建新的草稿版本。"))


class ModelVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ModelVersion.Status.PUBLISHED)

    def latest_published(self):
        return self.published().order_by("-number").first()

    def delete(self):
        if self.exclude(status=ModelVersion.Status.DRAFT).exists():
            raise PublishedVersionImmutable()
        return super().delete()

    def update(self, **kwargs):
        # Once a version has left draft only its status may move, and only to retired.
        frozen = set(kwargs) - {"status"} or kwargs.get("status", "retired") != "retired"
        if frozen and self.exclude(status=ModelVersion.Status.DRAFT).exists():
            raise PublishedVersionImmutable()
        return super().update(**kwargs)


class ModelVersion(BilingualMixin, models.Model):
    """One version of the competency model; drafts are edited, published ones never change."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    name_zh = models.CharField(_("名称（中文）"), max_length=200)
    name_en = models.CharField(_("名称（英文）"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("来源版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # T-shape classification thresholds (domain.md defaults; editable per version).
    breadth_level = models.PositiveSmallIntegerField(
        _("广度达标等级"), default=3, validators=level_validators
    )
    breadth_count = models.PositiveSmallIntegerField(_("广度达标类别数"), default=10)
    breadth_floor = models.PositiveSmallIntegerField(
        _("广度最低等级"), default=2, validators=level_validators
    )
    depth_level = models.PositiveSmallIntegerField(
        _("深度达标等级"), default=4, validators=level_validators
    )
    pi_industries = models.PositiveSmallIntegerField(_("π型所需行业数"), default=2)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("模型版本")
        verbose_name_plural = _("模型版本")
        ordering = ["-number"]

    def __str__(self):
        return f"v{self.number} {self.name} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self._guard_frozen_fields()
        super().save(*args, **kwargs)

    @property
    def name(self):
        return self.localized("name")

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    def _guard_frozen_fields(self):
        stored = type(self).objects.filter(pk=self.pk).first()
        if stored is None or stored.status == self.Status.DRAFT:
            return
        allowed = {"status", "id"}
        for f in self._meta.concrete_fields:
            if f.attname not in allowed and getattr(stored, f.attname) != getattr(self, f.attname):
                raise PublishedVersionImmutable()
        if (stored.status, self.status) not in {
            (self.Status.PUBLISHED, self.Status.PUBLISHED),
            (self.Status.PUBLISHED, self.Status.RETIRED),
            (self.Status.RETIRED, self.Status.RETIRED),
        }:
            raise PublishedVersionImmutable()

    def delete(self, *args, **kwargs):
        if type(self).objects.filter(pk=self.pk).exclude(status=self.Status.DRAFT).exists():
            raise PublishedVersionImmutable()
        return super().delete(*args, **kwargs)

    def categories_in_order(self):
        """Categories in the model's domain order (never alphabetical)."""
        return self.categories.select_related("domain").order_by("domain__order", "order")

    def completeness_errors(self) -> list[str]:
        """What stops this version from being published (empty when it is complete)."""
        from .exchange import export_version, validate_model_data

        return validate_model_data(export_version(self))


class VersionPartQuerySet(models.QuerySet):
    """Refuses bulk writes that would touch a part of a non-draft version."""

    def _guard(self):
        if self.exclude(version__status=ModelVersion.Status.DRAFT).exists():
            raise PublishedVersionImmutable()

    def update(self, **kwargs):
        self._guard()
        return super().update(**kwargs)

    def delete(self):
        self._guard()
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _guard_versions({obj.version_id for obj in objs})
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):
        objs = list(objs)
        _guard_versions({obj.version_id for obj in objs})
        return super().bulk_update(objs, *args, **kwargs)


def _guard_versions(version_ids):
    live = ModelVersion.objects.filter(pk__in=version_ids).exclude(status=ModelVersion.Status.DRAFT)
    if live.exists():
        raise PublishedVersionImmutable()


class VersionPart(BilingualMixin, models.Model):
    """Base of everything a version owns; saving or deleting it requires a draft version."""

    version = models.ForeignKey(
        ModelVersion, verbose_name=_("模型版本"), on_delete=models.CASCADE, related_name="+"
    )

    objects = VersionPartQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        _guard_versions({self.version_id})
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("version_id", flat=True)
            _guard_versions(set(stored))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _guard_versions({self.version_id})
        return super().delete(*args, **kwargs)

    @property
    def name(self):
        return self.localized("name")


class ProficiencyLevel(VersionPart):
    """A step of the 1–5 proficiency scale with its name."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="levels", verbose_name=_("模型版本")
    )
    value = models.PositiveSmallIntegerField(_("等级"), validators=level_validators)
    name_zh = models.CharField(_("名称（中文）"), max_length=50)
    name_en = models.CharField(_("名称（英文）"), max_length=50)

    class Meta:
        verbose_name = _("熟练等级")
        verbose_name_plural = _("熟练等级")
        ordering = ["version", "value"]
        constraints = [
            models.UniqueConstraint(fields=["version", "value"], name="uniq_level_per_version"),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=5), name="level_value_1_5"
            ),
        ]

    def __str__(self):
        return f"{self.value} {self.name}"


class DepthLevel(VersionPart):
    """A step of the 1–5 industry research depth scale, with what it means."""

    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.CASCADE,
        related_name="depth_levels",
        verbose_name=_("模型版本"),
    )
    value = models.PositiveSmallIntegerField(_("深度"), validators=level_validators)
    name_zh = models.CharField(_("名称（中文）"), max_length=50)
    name_en = models.CharField(_("名称（英文）"), max_length=50)
    description_zh = models.TextField(_("说明（中文）"))
    description_en = models.TextField(_("说明（英文）"))

    class Meta:
        verbose_name = _("行业深度等级")
        verbose_name_plural = _("行业深度等级")
        ordering = ["version", "value"]
        constraints = [
            models.UniqueConstraint(fields=["version", "value"], name="uniq_depth_per_version"),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=5), name="depth_value_1_5"
            ),
        ]

    def __str__(self):
        return f"{self.value} {self.name}"

    @property
    def description(self):
        return self.localized("description")


class Domain(VersionPart):
    """One of the four broad domains (the bar of the T), with its motto."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="domains", verbose_name=_("模型版本")
    )
    code = models.CharField(_("编码"), max_length=16)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name_zh = models.CharField(_("名称（中文）"), max_length=100)
    name_en = models.CharField(_("名称（英文）"), max_length=100)
    motto_zh = models.CharField(_("定位（中文）"), max_length=200, blank=True)
    motto_en = models.CharField(_("定位（英文）"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("能力领域")
        verbose_name_plural = _("能力领域")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="uniq_domain_code"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def motto(self):
        return self.localized("motto")


class Category(VersionPart):
    """One of the twelve competency categories, rated on the proficiency scale."""

    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.CASCADE,
        related_name="categories",
        verbose_name=_("模型版本"),
    )
    domain = models.ForeignKey(
        Domain, on_delete=models.CASCADE, related_name="categories", verbose_name=_("能力领域")
    )
    code = models.CharField(_("编码"), max_length=16)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name_zh = models.CharField(_("名称（中文）"), max_length=100)
    name_en = models.CharField(_("名称（英文）"), max_length=100)
    description_zh = models.TextField(_("说明（中文）"))
    description_en = models.TextField(_("说明（英文）"))

    class Meta:
        verbose_name = _("能力类别")
        verbose_name_plural = _("能力类别")
        ordering = ["version", "domain__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="uniq_category_code"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def description(self):
        return self.localized("description")

    def clean(self):
        if self.domain_id and self.domain.version_id != self.version_id:
            raise ValidationError({"domain": _("能力领域必须属于同一模型版本。")})


class LevelDescription(VersionPart):
    """What a manager at one level does in one category: raters rate against words."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("模型版本")
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name="level_descriptions",
        verbose_name=_("能力类别"),
    )
    level = models.PositiveSmallIntegerField(_("等级"), validators=level_validators)
    text_zh = models.TextField(_("行为描述（中文）"))
    text_en = models.TextField(_("行为描述（英文）"))

    class Meta:
        verbose_name = _("等级行为描述")
        verbose_name_plural = _("等级行为描述")
        ordering = ["category", "level"]
        constraints = [
            models.UniqueConstraint(fields=["category", "level"], name="uniq_level_description"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="description_level_1_5"
            ),
        ]

    def __str__(self):
        return f"{self.category.code} L{self.level}"

    def save(self, *args, **kwargs):
        self.version_id = self.category.version_id
        super().save(*args, **kwargs)

    @property
    def text(self):
        return self.localized("text")


class Industry(VersionPart):
    """A vertical market whose research depth is rated (the stem of the T)."""

    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.CASCADE,
        related_name="industries",
        verbose_name=_("模型版本"),
    )
    code = models.CharField(_("编码"), max_length=32)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name_zh = models.CharField(_("名称（中文）"), max_length=100)
    name_en = models.CharField(_("名称（英文）"), max_length=100)

    class Meta:
        verbose_name = _("行业")
        verbose_name_plural = _("行业")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="uniq_industry_code"),
        ]

    def __str__(self):
        return self.name


class Grade(VersionPart):
    """A certification grade and its target profile (per-category minimums, breadth and depth)."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="grades", verbose_name=_("模型版本")
    )
    code = models.CharField(_("编码"), max_length=16)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name_zh = models.CharField(_("名称（中文）"), max_length=100)
    name_en = models.CharField(_("名称（英文）"), max_length=100)
    required_depth = models.PositiveSmallIntegerField(
        _("要求行业深度"), default=0, validators=depth_validators
    )
    depth_industries = models.PositiveSmallIntegerField(_("达到深度的行业数"), default=1)
    breadth_count = models.PositiveSmallIntegerField(_("广度：至少几个类别"), null=True, blank=True)
    breadth_level = models.PositiveSmallIntegerField(
        _("广度：达到等级"), null=True, blank=True, validators=level_validators
    )
    validity_months = models.PositiveSmallIntegerField(_("证书有效期（月）"), default=24)

    class Meta:
        verbose_name = _("认证等级")
        verbose_name_plural = _("认证等级")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="uniq_grade_code"),
            models.CheckConstraint(
                condition=models.Q(breadth_count__isnull=True, breadth_level__isnull=True)
                | models.Q(breadth_count__isnull=False, breadth_level__isnull=False),
                name="grade_breadth_both_or_neither",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if (self.breadth_count is None) != (self.breadth_level is None):
            raise ValidationError(_("广度要求需同时填写类别数和等级，或都不填。"))


class GradeTarget(VersionPart):
    """The minimum final level a grade requires in one category."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("模型版本")
    )
    grade = models.ForeignKey(
        Grade, on_delete=models.CASCADE, related_name="targets", verbose_name=_("认证等级")
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="targets", verbose_name=_("能力类别")
    )
    min_level = models.PositiveSmallIntegerField(_("最低等级"), validators=level_validators)

    class Meta:
        verbose_name = _("目标等级")
        verbose_name_plural = _("目标等级")
        ordering = ["grade", "category__domain__order", "category__order"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "category"], name="uniq_grade_target"),
            models.CheckConstraint(
                condition=models.Q(min_level__gte=1, min_level__lte=5), name="target_level_1_5"
            ),
        ]

    def __str__(self):
        return f"{self.grade.code} {self.category.code} ≥ {self.min_level}"

    def save(self, *args, **kwargs):
        self.version_id = self.grade.version_id
        super().save(*args, **kwargs)


class ModelVersionEvent(DecisionRecord):
    """An audited decision on a version (created, published, retired): written once, never changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("已创建")
        IMPORTED = "imported", _("已导入")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="events", verbose_name=_("模型版本")
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)

    class Meta(DecisionRecord.Meta):
        verbose_name = _("模型版本记录")
        verbose_name_plural = _("模型版本记录")

    def __str__(self):
        return f"v{self.version.number} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class ModelImport(models.Model):
    """An uploaded model file (JSON, Excel or Moodle CSV): previewed, then made a draft at most once."""

    class Format(models.TextChoices):
        JSON = "json", _("JSON（tshape-model/1）")
        XLSX = "xlsx", _("Excel（.xlsx）")
        MOODLE_CSV = "moodle-csv", _("Moodle 能力框架 CSV")

    class Status(models.TextChoices):
        CHECKED = "checked", _("已校验")
        FAILED = "failed", _("校验未通过")
        APPLIED = "applied", _("已创建草稿")

    file_name = models.CharField(_("文件名"), max_length=255)
    file_format = models.CharField(_("格式"), max_length=16, choices=Format.choices)
    content = models.BinaryField(_("文件内容"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    # The preview shown before confirming, including the document a confirmation creates.
    preview = models.JSONField(_("预览"), default=dict)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("创建的草稿版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("创建草稿时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("模型导入")
        verbose_name_plural = _("模型导入")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"
