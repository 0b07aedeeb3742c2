"""Roles, the capabilities they grant, and the one answer to "whom may this user see".

Every view, viewset, exporter and task scopes its reads through ``people_scope`` (usually via
``User.objects.visible_to(user)`` / ``OrgUnit.objects.visible_to(user)``) and checks actions
with ``can(user, capability, unit=...)``.
"""

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MANAGER = "manager", _("客户经理")
    SUPERVISOR = "supervisor", _("主管")
    HR = "hr", _("人力资源")
    ADMIN = "admin", _("系统管理员")


class Capability(models.TextChoices):
    SELF_ASSESS = "assessment.self", _("填写自评")
    REVIEW = "assessment.review", _("评价团队成员")
    VIEW_TEAM = "team.view", _("查看团队")
    MANAGE_CYCLES = "cycle.manage", _("管理评估周期")
    IMPORT_ORG = "org.import", _("导入组织与人员")
    EXPORT_REPORTS = "report.export", _("导出报表")
    CONFIRM_CERTIFICATION = "certification.confirm", _("确认认证")
    EDIT_MODEL = "model.edit", _("编辑能力模型")
    VIEW_AUDIT = "audit.view", _("查看审计日志")
    MANAGE_PERSONAL_DATA = "personal_data.manage", _("管理个人数据")


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.MANAGER: frozenset({Capability.SELF_ASSESS}),
    Role.SUPERVISOR: frozenset({Capability.SELF_ASSESS, Capability.REVIEW, Capability.VIEW_TEAM}),
    Role.HR: frozenset(
        {
            Capability.VIEW_TEAM,
            Capability.MANAGE_CYCLES,
            Capability.IMPORT_ORG,
            Capability.EXPORT_REPORTS,
            Capability.CONFIRM_CERTIFICATION,
            Capability.VIEW_AUDIT,
            Capability.MANAGE_PERSONAL_DATA,
        }
    ),
    Role.ADMIN: frozenset({Capability.EDIT_MODEL, Capability.VIEW_TEAM, Capability.VIEW_AUDIT}),
}

# Roles whose holders see every person and unit; everyone else sees self plus headed subtrees.
ORGANISATION_WIDE_ROLES = frozenset({Role.HR, Role.ADMIN})
# Assessments are HR data: the system administrator sees them only as a person or a head.
ASSESSMENT_WIDE_ROLES = frozenset({Role.HR})

# Django model permissions each role group carries (the admin site reads these).
ROLE_MODEL_PERMISSIONS: dict[str, list[str]] = {
    Role.MANAGER: [],
    Role.SUPERVISOR: ["accounts.view_user", "accounts.view_orgunit"],
    Role.HR: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_orgunit",
        "accounts.add_orgunit",
        "accounts.change_orgunit",
        "accounts.view_orgimport",
        "accounts.add_orgimport",
    ],
    Role.ADMIN: [
        f"competency.{action}_{model}"
        for model in (
            "modelversion",
            "domain",
            "category",
            "leveldescription",
            "proficiencylevel",
            "depthlevel",
            "industry",
            "grade",
            "gradetarget",
        )
        for action in ("view", "add", "change", "delete")
    ]
    + ["competency.view_modelversionevent", "accounts.view_user", "accounts.view_orgunit"]
    + [f"assessments.{action}_learningresource" for action in ("view", "add", "change", "delete")],
}


@dataclass(frozen=True)
class PeopleScope:
    """Whom a user may see: nobody, everyone, or self plus the subtrees of ``units``."""

    everyone: bool = False
    units: tuple = field(default_factory=tuple)
    nobody: bool = False


def roles_of(user) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Role.values)
    return user.role_names


def has_capability(user, capability: str) -> bool:
    """True when one of the user's roles grants ``capability``."""
    return any(capability in ROLE_CAPABILITIES.get(role, ()) for role in roles_of(user))


def people_scope(user, wide_roles: frozenset = ORGANISATION_WIDE_ROLES) -> PeopleScope:
    """Everyone for the ``wide_roles``; otherwise self plus the subtrees of the units the user heads."""
    if not user.is_authenticated or not user.is_active:
        return PeopleScope(nobody=True)
    if roles_of(user) & wide_roles:
        return PeopleScope(everyone=True)
    if not hasattr(user, "_headed_units"):
        user._headed_units = tuple(user.headed_units.only("pk", "path"))
    return PeopleScope(units=user._headed_units)


def person_visibility_q(
    user, person_field: str = "", wide_roles: frozenset = ORGANISATION_WIDE_ROLES
) -> Q:
    """The filter for rows that belong to a person ``user`` may see.

    ``person_field`` is the path from the queried model to the person ("" for User itself,
    "person" for assessments, …). This is the one place the scoping rule is written.
    """
    scope = people_scope(user, wide_roles)
    if scope.nobody:
        return Q(pk__in=[])
    if scope.everyone:
        return Q()
    # Unit ids, not "path LIKE …" on a joined table: both sides of the OR then sit on the person's
    # own row, and PostgreSQL answers from two indexes instead of scanning every person; rows of
    # other models reach the people through a subquery for the same reason.
    q = Q(pk=user.pk)
    if units := subtree_unit_ids(user, scope):
        q |= Q(org_unit__in=units)
    if not person_field:
        return q
    from .models import User  # the models module imports this one

    return Q(**{f"{person_field}__in": User.objects.filter(q).values("pk")})


def subtree_unit_ids(user, scope: PeopleScope) -> tuple[int, ...]:
    """The ids of every unit in the subtrees ``scope`` names (cached on the user object)."""
    if not scope.units:
        return ()
    cached = getattr(user, "_subtree_unit_ids", None)
    if cached is None or cached[0] != scope.units:
        from .models import OrgUnit  # the models module imports this one

        paths = Q()
        for unit in scope.units:
            paths |= Q(path__startswith=unit.path)
        ids = tuple(OrgUnit.objects.filter(paths).values_list("pk", flat=True))
        user._subtree_unit_ids = cached = (scope.units, ids)
    return cached[1]


def chosen_or_404(queryset, value):
    """The row a query parameter names, or None when it names none; 404 when the value is not an
    id in ``queryset`` (a scoped queryset: out of scope looks the same as absent)."""
    if value in (None, ""):
        return None
    if not str(value).isdigit():
        raise Http404
    return get_object_or_404(queryset, pk=value)


def supervised_q(user, person_field: str = "") -> Q:
    """The filter for people ``user`` rates as supervisor.

    Everyone in a subtree the user heads, except the user and the other heads of that same unit:
    a head is rated by a head above, never by themself or a peer.
    """
    if not has_capability(user, Capability.REVIEW):
        return Q(pk__in=[])
    prefix = f"{person_field}__" if person_field else ""
    q = Q(pk__in=[])
    for unit in people_scope(user).units:
        q |= Q(**{f"{prefix}org_unit__path__startswith": unit.path}) & ~Q(
            **{f"{prefix}headed_units": unit}
        )
    return q & ~Q(**{f"{prefix}pk": user.pk})


def can(user, capability: str, unit=None) -> bool:
    """May ``user`` exercise ``capability`` over ``unit`` (its whole subtree)?"""
    if not has_capability(user, capability):
        return False
    if unit is None:
        return True
    scope = people_scope(user)
    return scope.everyone or any(unit.path.startswith(head.path) for head in scope.units)


def ensure_role_groups(**kwargs):
    """Create the four role groups with their model permissions (after every migrate/flush)."""
    from django.contrib.auth.models import Group, Permission

    wanted = {perm for perms in ROLE_MODEL_PERMISSIONS.values() for perm in perms}
    available = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={perm.split(".")[1] for perm in wanted}
        )
    }
    for role, perms in ROLE_MODEL_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([available[p] for p in perms if p in available])


def capability_required(capability: str):
    """View decorator: sign-in required, then 403 unless a role grants ``capability``."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required
    from django.core.exceptions import PermissionDenied

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not has_capability(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
