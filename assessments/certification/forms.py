"""Forms of the certification pages: apply, the decisions, bulk applications, register filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit

from ..models import Certificate, Cycle
from .services import TEXT_MAX


class ApplyForm(forms.Form):
    """The grade to apply for (up to the eligible one) and an optional statement."""

    grade = forms.ChoiceField(label=_("申请等级"))
    note = forms.CharField(
        label=_("申请说明（可选）"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data=None, *, grades, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["grade"].choices = [(g.code, f"{g.code} {g.name}") for g in reversed(grades)]


class NoteForm(forms.Form):
    """An optional note with a decision (approve, confirm)."""

    note = forms.CharField(
        label=_("意见（可选）"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    """The reason a decision requires (reject, send back, revoke)."""

    reason = forms.CharField(
        label=_("原因"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写原因。")},
    )


class BulkApplyForm(forms.Form):
    """The cycle whose eligible people HR applies for."""

    cycle = forms.ModelChoiceField(label=_("评估周期"), queryset=Cycle.objects.none())

    def __init__(self, data=None, *, cycles, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["cycle"].queryset = Cycle.objects.filter(
            pk__in=[c.pk for c in cycles]
        ).order_by("-created_at", "-pk")


class RegisterFilterForm(forms.Form):
    """The register's filters; an invalid value is reported and ignored, the others still apply."""

    STATES = [("", _("全部状态")), *Certificate.Status.choices]

    grade = forms.ChoiceField(label=_("等级"), required=False)
    state = forms.ChoiceField(label=_("状态"), required=False, choices=STATES)
    unit = forms.ModelChoiceField(
        label=_("单位"), required=False, queryset=OrgUnit.objects.none(), empty_label=_("全部单位")
    )
    valid_from = forms.DateField(
        label=_("有效期至（起）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_to = forms.DateField(
        label=_("有效期至（止）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)

    def __init__(self, data=None, *, grades, units, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["grade"].choices = [("", _("全部等级"))] + [
            (code, f"{code} {name}") for code, name in grades
        ]
        self.fields["unit"].queryset = units
        self.fields["unit"].label_from_instance = lambda u: f"{u.indent}{u.name}"


class LookupForm(forms.Form):
    """A certificate number typed by whoever wants to verify it."""

    number = forms.CharField(label=_("证书编号"), max_length=60)
