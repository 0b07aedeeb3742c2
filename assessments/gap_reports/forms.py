"""HR's form to start a gap report run: which cycle, measured against which targets."""

from django import forms
from django.utils.translation import gettext_lazy as _

from competency.models import Grade

from ..models import Cycle, GapReportRun


class StartRunForm(forms.Form):
    """A cycle that has opened, and either each member's own grade or one grade for everyone."""

    cycle = forms.ModelChoiceField(
        label=_("评估周期"),
        queryset=Cycle.objects.none(),
        empty_label=None,
    )
    target_rule = forms.ChoiceField(
        label=_("对照目标"),
        choices=GapReportRun.TargetRule.choices,
        initial=GapReportRun.TargetRule.OWN_GRADE,
        widget=forms.RadioSelect,
    )
    target_grade = forms.ChoiceField(
        label=_("统一职级"),
        required=False,
        help_text=_("选择“按统一指定的职级”时，所有人都对照这个职级的目标画像。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cycles = Cycle.objects.exclude(status=Cycle.Status.DRAFT).select_related("model_version")
        self.fields["cycle"].queryset = cycles
        grades = (
            Grade.objects.filter(version__cycles__in=cycles)
            .order_by("order", "code")
            .values_list("code", "name_zh", "name_en")
            .distinct()
        )
        from accounts.i18n import active_language_is_english

        english = active_language_is_english()
        seen: dict[str, str] = {}
        for code, zh, en in grades:
            seen.setdefault(code, f"{code} {(en or zh) if english else zh}")
        self.fields["target_grade"].choices = [("", "—"), *seen.items()]

    def clean(self):
        data = super().clean()
        fixed = data.get("target_rule") == GapReportRun.TargetRule.FIXED_GRADE
        if fixed and not data.get("target_grade"):
            self.add_error("target_grade", _("请选择统一对照的职级。"))
        if not fixed:
            data["target_grade"] = ""
        return data
