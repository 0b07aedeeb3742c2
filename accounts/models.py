"""People and the organisation tree (province → city → district/team, any depth)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from .audit import AuditEvent  # noqa: F401  (the audit log is a model of this app)
from .i18n import BilingualMixin

PATH_SEPARATOR = "/"


class OrgUnitQuerySet(models.QuerySet):
    """Subtree filters over the materialised path: one query whatever the depth."""

    def subtree_of(self, *units):
        """Units at or below any of ``units``."""
        if not units:
            return self.none()
        return self.filter(subtree_q(units, "path"))

    def visible_to(self, user):
        """The units ``user`` may see: all for HR/admin, the headed subtrees for a head, else own."""
        from .permissions import people_scope

        scope = people_scope(user)
        if scope.nobody:
            return self.none()
        if scope.everyone:
            return self.all()
        q = subtree_q(scope.units, "path") if scope.units else Q(pk__in=[])
        if user.org_unit_id:
            q |= Q(pk=user.org_unit_id)
        return self.filter(q)


def subtree_q(units, field):
    """A Q matching rows whose ``field`` (a path) lies in any of the units' subtrees."""
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(**{f"{field}__startswith": unit.path})
    return q


class OrgUnit(BilingualMixin, models.Model):
    """A unit of the organisation; ``path`` lists the ids from the root so subtrees are prefixes."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("省公司")
        CITY = "city", _("地市分公司")
        DISTRICT = "district", _("区县")
        TEAM = "team", _("团队")

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name_zh = models.CharField(_("名称（中文）"), max_length=200)
    name_en = models.CharField(_("名称（英文）"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.TEAM)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    heads = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        blank=True,
        related_name="headed_units",
    )

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        """Keep ``path``/``depth`` right, moving the whole subtree with one UPDATE on re-parenting."""
        with transaction.atomic():
            if self.pk is None:
                super().save(*args, **kwargs)
                self._set_path()
                type(self).objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
                return
            old_path = type(self).objects.filter(pk=self.pk).values_list("path", flat=True).get()
            old_depth = old_path.count(PATH_SEPARATOR) - 2
            self.full_clean(exclude=["code", "name_zh", "name_en", "kind"], validate_unique=False)
            self._set_path()
            super().save(*args, **kwargs)
            if old_path != self.path:
                type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
                    depth=F("depth") + (self.depth - old_depth),
                )

    @property
    def name(self):
        return self.localized("name")

    def clean(self):
        if self.parent_id and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})

    def _set_path(self):
        prefix = self.parent.path if self.parent_id else PATH_SEPARATOR
        self.path = f"{prefix}{self.pk}{PATH_SEPARATOR}"
        self.depth = self.path.count(PATH_SEPARATOR) - 2

    @property
    def indent(self) -> str:
        """Leading full-width spaces that show the depth in a flat list of units."""
        return "\u3000" * self.depth

    def ancestors(self):
        """Units above this one, root first (one query)."""
        ids = [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]]
        return type(self).objects.filter(pk__in=ids).order_by("depth")

    def is_within(self, other):
        """True when this unit lies in ``other``'s subtree (itself included)."""
        return self.path.startswith(other.path)


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        """People ``user`` may see: everyone (HR/admin), own + headed subtrees (heads), or self."""
        from .permissions import person_visibility_q

        return self.filter(person_visibility_q(user))

    def in_subtree(self, unit):
        return self.filter(org_unit__path__startswith=unit.path)


class PersonManager(UserManager.from_queryset(PersonQuerySet)):
    pass


class User(AbstractUser):
    """A person: account manager, supervisor, HR or admin (roles are groups)."""

    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    employee_no = models.CharField(_("工号"), max_length=32, unique=True, null=True, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    preferred_language = models.CharField(
        _("首选语言"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    job_grade = models.CharField(
        _("职级"),
        max_length=16,
        blank=True,
        help_text=_("认证等级编码，例如 G2；决定差距分析的目标画像。"),
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # Set when HR erased the person's identity (personal data, accounts/services.py).
    erased_at = models.DateTimeField(_("身份删除时间"), null=True, blank=True, editable=False)

    objects = PersonManager()

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["employee_no", "username"]

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    @property
    def role_names(self):
        """Names of the role groups, cached for the request."""
        if not hasattr(self, "_role_names"):
            self._role_names = frozenset(self.groups.values_list("name", flat=True))
        return self._role_names

    def supervisors(self):
        """Heads of the person's unit; for a head (or a unit without one), the next unit up's."""
        if not self.org_unit_id:
            return type(self).objects.none()
        upward = [self.org_unit, *reversed(self.org_unit.ancestors().prefetch_related("heads"))]
        own_heads = {head.pk for head in self.org_unit.heads.all()}
        for unit in upward[1:] if self.pk in own_heads else upward:
            others = [head.pk for head in unit.heads.all() if head.pk != self.pk]
            if others:
                return type(self).objects.filter(pk__in=others)
        return type(self).objects.none()

    def is_supervised_by(self, other):
        """True when ``other`` is one of this person's supervisors (never the person themself)."""
        return other.pk != self.pk and self.supervisors().filter(pk=other.pk).exists()


class OrgImport(models.Model):
    """An uploaded organisation file: checked by a dry run, applied at most once, kept for audit."""

    class Status(models.TextChoices):
        CHECKED = "checked", _("已校验")
        FAILED = "failed", _("校验未通过")
        APPLIED = "applied", _("已导入")

    file_name = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField(_("文件内容"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    summary = models.JSONField(_("结果"), default=dict)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("组织导入")
        verbose_name_plural = _("组织导入")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"
