"""What the page frame needs about the signed-in user: roles and the menu they allow."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import Capability, Role, has_capability, roles_of

# (capability needed — one, any of a tuple, or None for everyone signed in — URL name, label)
MENU = [
    (None, "home", _("首页")),
    (Capability.SELF_ASSESS, "assessments:my-list", _("我的评估")),
    (Capability.SELF_ASSESS, "profiles:mine", _("我的画像")),
    (Capability.SELF_ASSESS, "certification:my-overview", _("我的认证")),
    (Capability.REVIEW, "assessments:review-list", _("团队评价")),
    ((Capability.REVIEW, Capability.MANAGE_CYCLES), "profiles:team", _("团队画像")),
    (Capability.REVIEW, "certification:approval-list", _("认证审批")),
    (Capability.MANAGE_CYCLES, "assessments:cycle-list", _("评估周期")),
    ((Capability.MANAGE_CYCLES, Capability.REVIEW), "calibration:session-list", _("等级校准")),
    ((Capability.REVIEW, Capability.EXPORT_REPORTS), "reports:run-list", _("差距报告")),
    (Capability.CONFIRM_CERTIFICATION, "certification:confirmation-list", _("认证确认")),
    (Capability.IMPORT_ORG, "accounts:org-import", _("导入组织")),
    (Capability.VIEW_TEAM, "accounts:people-list", _("人员")),
    (Capability.VIEW_AUDIT, "accounts:audit-log", _("审计日志")),
    (Capability.EDIT_MODEL, "competency:version-list", _("能力模型")),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = roles_of(user)
    return {
        "nav_items": [
            {
                "url": reverse(name),
                "label": label,
                "active": request.path.startswith(reverse(name))
                if name != "home"
                else request.path == "/",
            }
            for capability, name, label in MENU
            if _allowed(user, capability)
        ],
        "user_roles": [Role(r).label for r in Role.values if r in roles],
    }


def _allowed(user, capability) -> bool:
    if capability is None:
        return True
    if isinstance(capability, tuple):
        return any(has_capability(user, c) for c in capability)
    return has_capability(user, capability)
