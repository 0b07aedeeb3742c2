"""Forms of the supervisor's review page: the ratings form and the return-to-manager form.

Field names are stable (the page, its script and the tests post them): ``level-<category code>``,
``comment-<category code>``, ``depth-<industry code>``, ``supervisor_comment`` and ``revision``.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..services import COMMENT_MAX, RatingInput

LEVEL_CHOICES = [(str(v), str(v)) for v in range(1, 6)]


def _level_field(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=LEVEL_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择 1 到 5 之间的等级。")},
    )


def _comment_field(label) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=COMMENT_MAX, widget=forms.Textarea
    )


class ReviewForm(forms.Form):
    """The supervisor's levels, comments and industry depths for one assessment (all optional
    while saving; completion checks what is missing)."""

    supervisor_comment = _comment_field(_("主管总体评语"))
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, data=None, *, sheet):
        self.category_codes = [row.category.code for row in sheet.categories]
        self.industry_codes = [row.industry.code for row in sheet.industries]
        initial = {
            "supervisor_comment": sheet.assessment.supervisor_comment,
            "revision": sheet.assessment.revision,
        }
        super().__init__(data, initial=initial)
        for row in sheet.categories:
            code, name = row.category.code, row.category.name
            self.fields[f"level-{code}"] = _level_field(name)
            self.fields[f"comment-{code}"] = _comment_field(_("%(name)s的评语") % {"name": name})
            self.initial[f"level-{code}"] = row.rating.supervisor_level
            self.initial[f"comment-{code}"] = row.rating.supervisor_comment
        for row in sheet.industries:
            code = row.industry.code
            self.fields[f"depth-{code}"] = _level_field(row.industry.name)
            self.initial[f"depth-{code}"] = row.rating.supervisor_depth

    def typed_values(self) -> dict:
        """Each field's value as the page should show it again: cleaned, else as typed."""
        cleaned = getattr(self, "cleaned_data", {})
        values = {}
        for name, field in self.fields.items():
            if not self.is_bound:
                values[name] = self.initial.get(name)
            elif name in cleaned:
                values[name] = cleaned[name]
            else:
                values[name] = _lenient(field, self.data.get(name))
        return values

    def ratings(self) -> dict[str, RatingInput]:
        data = self.cleaned_data
        return {
            code: RatingInput(data[f"level-{code}"], data[f"comment-{code}"])
            for code in self.category_codes
        }

    def depths(self) -> dict[str, int | None]:
        return {code: self.cleaned_data[f"depth-{code}"] for code in self.industry_codes}


def _lenient(field, raw):
    """A typed value that failed validation, kept as close to what was typed as can be shown."""
    if isinstance(field, forms.TypedChoiceField):
        return int(raw) if raw in {value for value, _label in LEVEL_CHOICES} else None
    return raw or ""


class ReturnForm(forms.Form):
    """Send the assessment back to the manager: the reason is required."""

    reason = forms.CharField(
        label=_("退回原因"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("退回时必须填写原因。")},
    )
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
