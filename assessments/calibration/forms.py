"""Forms of the calibration pages: open a session, the guide distribution, adjust, reopen, close."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from accounts.permissions import Capability, has_capability, people_scope

from ..models import Cycle
from ..models.calibration import GUIDE_LEVELS
from ..services import COMMENT_MAX
from .services import CalibrationError, check_guide

LEVEL_CHOICES = [(v, str(v)) for v in GUIDE_LEVELS]


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.indent}{obj.name}"


class CycleField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_status_display()}）"


def calibratable_units(user):
    """Units ``user`` may open a session for: all for HR, else inside the subtrees they head."""
    if has_capability(user, Capability.MANAGE_CYCLES):
        return OrgUnit.objects.all()
    if not has_capability(user, Capability.REVIEW):
        return OrgUnit.objects.none()
    return OrgUnit.objects.subtree_of(*people_scope(user).units)


class SessionForm(forms.Form):
    """A cycle that has results, and a unit in the user's reach."""

    cycle = CycleField(
        label=_("评估周期"),
        queryset=Cycle.objects.exclude(status=Cycle.Status.DRAFT).order_by("-created_at", "-pk"),
        empty_label=None,
    )
    unit = UnitField(label=_("单位（含下级）"), queryset=OrgUnit.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = calibratable_units(user).order_by("path")


class GuideForm(forms.Form):
    """Shares (%) per level; all empty clears the guide."""

    def __init__(self, *args, session=None, **kwargs):
        initial = kwargs.pop("initial", {})
        if session is not None and session.guide:
            initial |= {f"level_{level}": share for level, share in session.guide.items()}
        super().__init__(*args, initial=initial, **kwargs)
        for level in GUIDE_LEVELS:
            self.fields[f"level_{level}"] = forms.IntegerField(
                label=_("%(level)s 级（%%）") % {"level": level},
                min_value=0,
                max_value=100,
                required=False,
            )

    def clean(self):
        data = super().clean()
        values = {level: data.get(f"level_{level}") for level in GUIDE_LEVELS}
        if all(v is None for v in values.values()):
            data["shares"] = None
            return data
        if any(v is None for v in values.values()):
            raise forms.ValidationError(_("请为每个等级填写占比，或全部留空以取消参考分布。"))
        try:
            data["shares"] = check_guide(values)
        except CalibrationError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class AdjustForm(forms.Form):
    """A new final level for one category, with the reason (required)."""

    category = forms.CharField(max_length=16, widget=forms.HiddenInput)
    level = forms.TypedChoiceField(
        label=_("校准后等级"),
        choices=LEVEL_CHOICES,
        coerce=int,
        error_messages={"invalid_choice": _("请选择 1 到 5 之间的等级。")},
    )
    reason = forms.CharField(
        label=_("调整原因"),
        max_length=COMMENT_MAX,
        error_messages={"required": _("调整最终等级时必须填写原因。")},
    )
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("重新开启的原因"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("重新开启校准时必须填写原因。")},
    )


class CloseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我确认结束本次校准：结束后这些评估的最终等级将被锁定。"),
        error_messages={"required": _("请先勾选确认框，再结束校准。")},
    )
    note = forms.CharField(
        label=_("备注（可选）"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
