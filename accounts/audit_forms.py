"""Forms of the audit log and personal-data pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .audit import AuditEvent


class AuditFilterForm(forms.Form):
    """The audit log's filters; an invalid value is reported and ignored, the others still apply."""

    action = forms.ChoiceField(label=_("事件"), required=False)
    actor = forms.CharField(label=_("操作人账号"), required=False, max_length=150)
    date_from = forms.DateField(
        label=_("从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("全部事件")), *AuditEvent.Action.choices]

    def filters(self) -> dict:
        """The valid filters as keyword arguments of ``AuditEvent.objects.matching``."""
        self.is_valid()  # invalid fields are reported on the page and left out of the filter
        return {name: value for name, value in self.cleaned_data.items() if value}


class EraseForm(forms.Form):
    """Erasing a person cannot be undone: the box must be ticked."""

    confirm = forms.BooleanField(
        label=_("我确认删除此人的身份信息，此操作不可撤销。"),
        error_messages={"required": _("请勾选确认框。")},
    )
