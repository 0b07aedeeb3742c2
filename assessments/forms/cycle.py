"""Forms of HR's cycle pages: a cycle's settings, and people named by employee number or username."""

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from competency.models import ModelVersion

from ..models import Cycle

# Beyond this many active people a multi-select is unusable: only the list of numbers is offered.
PEOPLE_SELECT_LIMIT = 300
UNKNOWN_SHOWN = 20
# One a line is what the page asks for; commas and spaces are forgiven (pasted from Excel).
SEPARATORS = re.compile(r"[\s,;，；、]+")


class UnitChoiceField(forms.ModelMultipleChoiceField):
    """Org units shown as an indented tree."""

    def label_from_instance(self, obj):
        return f"{obj.indent}{obj.name}"


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.employee_no or obj.username}) · {obj.org_unit or '—'}"


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"v{obj.number} {obj.name}"


class PeopleListField(forms.CharField):
    """Employee numbers or usernames, one a line → the active people they name.

    Every name must match someone in ``queryset``; the unknown ones are the error message.
    """

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"})

    def __init__(self, *, queryset=None, **kwargs):
        self.queryset = queryset
        super().__init__(**kwargs)

    def clean(self, value):
        tokens = list(dict.fromkeys(t for t in SEPARATORS.split(super().clean(value)) if t))
        if not tokens:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        people = list(self.queryset.filter(Q(employee_no__in=tokens) | Q(username__in=tokens)))
        known = {p.employee_no for p in people} | {p.username for p in people}
        unknown = [t for t in tokens if t not in known]
        if unknown:
            shown = "、".join(unknown[:UNKNOWN_SHOWN]) + (
                "…" if len(unknown) > UNKNOWN_SHOWN else ""
            )
            raise forms.ValidationError(
                _("找不到以下 %(count)d 个工号或用户名（不存在或已停用）：%(names)s"),
                code="unknown",
                params={"count": len(unknown), "names": shown},
            )
        return people


def _people_field(**kwargs) -> PeopleListField:
    return PeopleListField(
        help_text=_("每行一个工号或用户名；未找到的会被列出，整张表单不会保存。"), **kwargs
    )


class CycleForm(forms.ModelForm):
    """A cycle's settings, editable while it is a draft; the model version only while draft."""

    picked_people = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("参与人员（选择）"),
        help_text=_("可选。按住 Ctrl（Mac 上为 ⌘）可选择多人。"),
    )
    people_text = _people_field(required=False, label=_("参与人员（工号或用户名）"))

    class Meta:
        model = Cycle
        fields = [
            "name",
            "model_version",
            "participant_units",
            "self_deadline",
            "review_deadline",
            "reminder_days",
            "final_rule",
            "self_weight",
        ]
        field_classes = {"model_version": VersionChoiceField, "participant_units": UnitChoiceField}
        widgets = {
            "participant_units": forms.CheckboxSelectMultiple,
            "self_deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "review_deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "final_rule": forms.RadioSelect,
            "self_weight": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
        }
        help_texts = {
            "participant_units": _("所选单位及其全部下级单位中的客户经理和主管都会参加。"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_model_version()
        self.fields["participant_units"].queryset = OrgUnit.objects.visible_to(user)
        self.fields["self_weight"].required = False
        self._set_up_people(User.objects.visible_to(user).filter(is_active=True))

    @property
    def is_draft(self) -> bool:
        return self.instance.status == Cycle.Status.DRAFT

    def _set_up_model_version(self):
        if not self.is_draft:
            # An open or closed cycle keeps its model version: the field is not even offered.
            del self.fields["model_version"]
            return
        field = self.fields["model_version"]
        field.queryset = ModelVersion.objects.published().order_by("-number")
        field.empty_label = None
        if not self.instance.model_version_id and not self.initial.get("model_version"):
            latest = field.queryset.first()
            self.initial["model_version"] = latest.pk if latest else None

    def _set_up_people(self, active):
        self.fields["people_text"].queryset = active
        current = list(self.instance.participant_people.all()) if self.instance.pk else []
        if active.count() <= PEOPLE_SELECT_LIMIT:
            self.fields["picked_people"].queryset = active.select_related("org_unit").order_by(
                "org_unit__path", "employee_no", "username"
            )
            self.initial["picked_people"] = [p.pk for p in current]
        else:
            del self.fields["picked_people"]
            self.initial["people_text"] = "\n".join(p.employee_no or p.username for p in current)

    def clean(self):
        data = super().clean()
        self._clean_weight(data)
        chosen = [*data.get("picked_people", []), *data.get("people_text", [])]
        data["people"] = list({p.pk: p for p in chosen}.values())
        return data

    def _clean_weight(self, data):
        weight = data.get("self_weight")
        if data.get("final_rule") != Cycle.FinalRule.WEIGHTED:
            if weight is None:
                data["self_weight"] = self.instance.self_weight
        elif weight is None:
            if "self_weight" not in self.errors:
                self.add_error("self_weight", _("选择加权规则时必须填写自评权重（0 到 1 之间）。"))
        elif not 0 < weight < 1:
            self.add_error(
                "self_weight",
                _("加权规则下自评权重必须大于 0 且小于 1（为 0 时请选择“以主管评价为准”）。"),
            )

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.participant_people.set(self.cleaned_data["people"])


class AddPeopleForm(forms.Form):
    """People to add to a draft or open cycle, by employee number or username."""

    people = _people_field(
        label=_("添加人员"), error_messages={"required": _("请至少填写一个工号或用户名。")}
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = User.objects.visible_to(user).filter(is_active=True)
