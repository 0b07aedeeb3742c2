"""Forms of the development plan: a goal (the person's) and a comment (a supervisor's)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import DevelopmentGoal
from .services import COMMENT_MAX


class GoalForm(forms.ModelForm):
    """A goal of the signed-in person's plan; categories offered in the model's domain order."""

    category_code = forms.ChoiceField(label=_("能力类别"))

    class Meta:
        model = DevelopmentGoal
        fields = ["title", "category_code", "due_date", "status"]
        widgets = {
            "title": forms.TextInput(attrs={"maxlength": 300}),
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, axes, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(a.code, a.label) for a in axes]
        current = self.instance.category_code
        if current and current not in {code for code, _label in choices}:
            # A goal written under an older model version keeps its category.
            choices.append((current, current))
        self.fields["category_code"].choices = choices

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        changed = self.instance.pk is None or due != self.instance.due_date
        if changed and due < timezone.localdate():
            raise forms.ValidationError(_("完成期限不能早于今天。"))
        return due


class GoalCommentForm(forms.Form):
    """A supervisor's comment on one goal."""

    note = forms.CharField(
        label=_("主管评语"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
