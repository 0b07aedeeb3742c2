"""Forms of the model editor (plain Django forms; no JavaScript needed).

Forms validate what one page can see and hand plain values to ``services``; they never save.
List pages are model formsets over one draft's parts, so a posted id from any other version is
refused by the formset itself ("select a valid choice").
"""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from ..models import (
    LEVEL_VALUES,
    Category,
    Domain,
    Grade,
    Industry,
    ModelVersion,
)

LEVEL_CHOICES = [(v, str(v)) for v in LEVEL_VALUES]
DEPTH_CHOICES = [(v, str(v)) for v in range(0, 6)]
code_validator = RegexValidator(
    r"^[^\s~]\S*$", _("编码不能为空、不能包含空格，也不能以 ~ 开头。"), code="code"
)


def _text_widget(rows=2):
    return forms.Textarea(attrs={"rows": rows})


# --- the version --------------------------------------------------------------------------------


class VersionSettingsForm(forms.ModelForm):
    """A draft's name and its T-shape classification thresholds."""

    class Meta:
        model = ModelVersion
        fields = [
            "name_zh",
            "name_en",
            "breadth_level",
            "breadth_count",
            "breadth_floor",
            "depth_level",
            "pi_industries",
        ]
        # Django capitalises model labels; "π型" must stay lower-case.
        labels = {"pi_industries": _("π型所需行业数")}
        widgets = {
            "breadth_level": forms.Select(choices=LEVEL_CHOICES),
            "breadth_floor": forms.Select(choices=LEVEL_CHOICES),
            "depth_level": forms.Select(choices=LEVEL_CHOICES),
        }

    def __init__(self, *args, category_count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.category_count = category_count
        self.fields["breadth_count"].min_value = 1
        self.fields["pi_industries"].min_value = 2

    def clean(self):
        data = super().clean()
        count, level, floor = (
            data.get(k) for k in ("breadth_count", "breadth_level", "breadth_floor")
        )
        if count is not None and not 1 <= count <= max(self.category_count, 1):
            self.add_error(
                "breadth_count",
                _("广度达标类别数应在 1 到类别总数 %(n)s 之间。") % {"n": self.category_count},
            )
        if level is not None and floor is not None and floor > level:
            self.add_error("breadth_floor", _("广度最低等级不能高于广度达标等级。"))
        return data


# --- list pages: domains, categories, industries, grades -------------------------------------------


class RowForm(forms.ModelForm):
    """One row of a list page: a code, names, and the position typed by the admin."""

    row_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].validators.append(code_validator)
        self.fields["order"].required = False  # empty: at the end
        self.fields["order"].widget.attrs.update({"class": "order-input", "min": 0})
        if self.instance.pk is None:
            self.initial.pop("order", None)
            self.fields["order"].initial = None

    def row(self, deleting: bool) -> dict:
        if deleting:
            return {"pk": self.instance.pk, "delete": True}
        return {
            "pk": self.instance.pk,
            "delete": False,
            "order": self.cleaned_data.get("order"),
            **{name: self.cleaned_data[name] for name in self.row_fields},
        }


class RowFormSet(forms.BaseModelFormSet):
    """A list page's rows: codes unique among the rows that stay; ``rows()`` for the service."""

    def clean(self):
        super().clean()
        # An existing row whose id is not one of this draft's parts (a tampered post): refuse.
        if any(f.instance.pk is None for f in self.forms[: self.initial_form_count()]):
            raise forms.ValidationError(_("要修改的条目不属于此草稿版本。"), code="foreign")
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            if self._skip(form):
                continue
            code = form.cleaned_data.get("code")
            if code in seen:
                form.add_error("code", _("编码“%(code)s”重复。") % {"code": code})
            elif code:
                seen[code] = index

    def _skip(self, form) -> bool:
        unchanged_extra = form.instance.pk is None and not form.has_changed()
        return (
            unchanged_extra or self._should_delete_form(form) or not hasattr(form, "cleaned_data")
        )

    def rows(self) -> list[dict]:
        return [
            form.row(self._should_delete_form(form))
            for form in self.forms
            if form.instance.pk is not None
            or (form.has_changed() and not self._should_delete_form(form))
        ]


class DomainRowForm(RowForm):
    row_fields = ("code", "name_zh", "name_en", "motto_zh", "motto_en")

    class Meta:
        model = Domain
        fields = ["order", "code", "name_zh", "name_en", "motto_zh", "motto_en"]


class DomainFormSet(RowFormSet):
    def __init__(self, *args, nonempty: set, **kwargs):
        super().__init__(*args, **kwargs)
        self.nonempty = nonempty

    def clean(self):
        super().clean()
        full = [f.instance.name for f in self.deleted_forms if f.instance.pk in self.nonempty]
        if full:
            raise forms.ValidationError(
                _("能力领域“%(names)s”下还有能力类别：请先移走或删除这些类别。")
                % {"names": _("、").join(full)},
                code="nonempty",
            )
        if not any(not self._skip(f) for f in self.forms):
            raise forms.ValidationError(_("至少需要一个能力领域。"))


class IndustryRowForm(RowForm):
    row_fields = ("code", "name_zh", "name_en")

    class Meta:
        model = Industry
        fields = ["order", "code", "name_zh", "name_en"]


class GradeRowForm(RowForm):
    row_fields = ("code", "name_zh", "name_en")

    class Meta:
        model = Grade
        fields = ["order", "code", "name_zh", "name_en"]


class CategoryRowForm(RowForm):
    """A category's code, names, domain and position (texts are edited on the category's page)."""

    row_fields = ("code", "domain", "name_zh", "name_en")
    domain = forms.TypedChoiceField(label=_("能力领域"), coerce=int)

    class Meta:
        model = Category
        fields = ["order", "code", "domain", "name_zh", "name_en"]

    def __init__(self, *args, domains: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = domains
        # Plain choices: rendering a row costs no query, whatever the number of rows.
        self.fields["domain"].choices = [(pk, f"{d.code} {d.name}") for pk, d in domains.items()]
        if self.instance.pk is not None:
            self.initial["domain"] = self.instance.domain_id

    def clean_domain(self):
        return self.domains[self.cleaned_data["domain"]]


def row_formset(form, formset=RowFormSet, extra=1):
    return forms.modelformset_factory(
        form.Meta.model, form=form, formset=formset, extra=extra, can_delete=True
    )


DomainRows = row_formset(DomainRowForm, DomainFormSet)
IndustryRows = row_formset(IndustryRowForm)
GradeRows = row_formset(GradeRowForm)
CategoryRows = row_formset(CategoryRowForm, extra=0)


# --- one category with its five level descriptions -----------------------------------------------


class CategoryForm(forms.Form):
    """A category's names, description and five level descriptions, Chinese and English side by side."""

    name_zh = forms.CharField(label=_("名称（中文）"), max_length=100)
    name_en = forms.CharField(label=_("名称（英文）"), max_length=100)
    description_zh = forms.CharField(label=_("说明（中文）"), widget=_text_widget(3))
    description_en = forms.CharField(label=_("说明（英文）"), widget=_text_widget(3))

    def __init__(self, *args, version: ModelVersion, category: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.version, self.category = version, category
        for level in LEVEL_VALUES:
            for lang, label in (("zh", _("中文")), ("en", _("英文"))):
                self.fields[f"level_{level}_{lang}"] = forms.CharField(
                    label=_("等级 %(level)s（%(lang)s）") % {"level": level, "lang": label},
                    widget=_text_widget(),
                    error_messages={
                        "required": _("等级 %(level)s 的行为描述（%(lang)s）不能为空。")
                        % {"level": level, "lang": label}
                    },
                )

    def level_rows(self):
        return [
            {"level": level, "zh": self[f"level_{level}_zh"], "en": self[f"level_{level}_en"]}
            for level in LEVEL_VALUES
        ]

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("level_")}

    def levels(self) -> dict:
        return {
            level: {
                "text_zh": self.cleaned_data[f"level_{level}_zh"],
                "text_en": self.cleaned_data[f"level_{level}_en"],
            }
            for level in LEVEL_VALUES
        }

    @staticmethod
    def initial_for(category: Category, descriptions) -> dict:
        initial = {
            name: getattr(category, name)
            for name in ("name_zh", "name_en", "description_zh", "description_en")
        }
        for d in descriptions:
            initial[f"level_{d.level}_zh"], initial[f"level_{d.level}_en"] = d.text_zh, d.text_en
        return initial


class NewCategoryForm(CategoryForm):
    """A new category: where it goes and its code, plus everything ``CategoryForm`` asks."""

    field_order = ["domain", "code"]

    def __init__(self, *args, domains: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.domains = {d.pk: d for d in domains}
        self.fields["domain"] = forms.TypedChoiceField(
            label=_("能力领域"),
            coerce=int,
            choices=[(d.pk, f"{d.code} {d.name}") for d in domains],
        )
        self.fields["code"] = forms.CharField(
            label=_("编码"), max_length=16, validators=[code_validator]
        )
        self.order_fields(self.field_order)

    def clean_domain(self):
        return self.domains[self.cleaned_data["domain"]]

    def clean_code(self):
        code = self.cleaned_data["code"]
        if Category.objects.filter(version=self.version, code=code).exists():
            raise forms.ValidationError(_("编码“%(code)s”已被其他类别使用。") % {"code": code})
        return code


# --- the scales ----------------------------------------------------------------------------------


class ScalesForm(forms.Form):
    """The names of proficiency levels 1–5 and the names and meanings of depth levels 1–5."""

    def __init__(self, *args, levels, depth_levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.level_values = [lv.value for lv in levels]
        self.depth_values = [d.value for d in depth_levels]
        languages = (("zh", _("中文")), ("en", _("英文")))
        for lv in levels:
            for lang, language in languages:
                self.fields[f"level_{lv.value}_name_{lang}"] = forms.CharField(
                    max_length=50,
                    label=_("等级 %(n)s 名称（%(lang)s）") % {"n": lv.value, "lang": language},
                )
                self.initial[f"level_{lv.value}_name_{lang}"] = getattr(lv, f"name_{lang}")
        for d in depth_levels:
            for lang, language in languages:
                self.fields[f"depth_{d.value}_name_{lang}"] = forms.CharField(
                    max_length=50,
                    label=_("深度 %(n)s 名称（%(lang)s）") % {"n": d.value, "lang": language},
                )
                self.fields[f"depth_{d.value}_description_{lang}"] = forms.CharField(
                    widget=_text_widget(),
                    label=_("深度 %(n)s 说明（%(lang)s）") % {"n": d.value, "lang": language},
                )
                self.initial[f"depth_{d.value}_name_{lang}"] = getattr(d, f"name_{lang}")
                self.initial[f"depth_{d.value}_description_{lang}"] = getattr(
                    d, f"description_{lang}"
                )

    def level_rows(self):
        return [
            {"value": v, "zh": self[f"level_{v}_name_zh"], "en": self[f"level_{v}_name_en"]}
            for v in self.level_values
        ]

    def depth_rows(self):
        return [
            {
                "value": v,
                "name_zh": self[f"depth_{v}_name_zh"],
                "name_en": self[f"depth_{v}_name_en"],
                "description_zh": self[f"depth_{v}_description_zh"],
                "description_en": self[f"depth_{v}_description_en"],
            }
            for v in self.depth_values
        ]

    def levels(self) -> dict:
        data = self.cleaned_data
        return {
            v: {"name_zh": data[f"level_{v}_name_zh"], "name_en": data[f"level_{v}_name_en"]}
            for v in self.level_values
        }

    def depth_levels(self) -> dict:
        fields = ("name_zh", "name_en", "description_zh", "description_en")
        return {
            v: {f: self.cleaned_data[f"depth_{v}_{f}"] for f in fields} for v in self.depth_values
        }


# --- the grade × category grid -------------------------------------------------------------------


class TargetGridForm(forms.Form):
    """Every grade's minimum level per category, plus its depth, breadth rule and validity."""

    def __init__(self, *args, grades, categories, targets: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.grades, self.categories = grades, categories
        for g in grades:
            for c in categories:
                name = f"t_{g.pk}_{c.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    choices=LEVEL_CHOICES, coerce=int, label=f"{g.code} × {c.code}"
                )
                self.initial[name] = targets.get((g.pk, c.pk), 1)
            self._grade_fields(g, len(categories))

    def _grade_fields(self, g, category_count: int):
        prefix = f"g_{g.pk}_"
        self.fields[prefix + "required_depth"] = forms.TypedChoiceField(
            choices=DEPTH_CHOICES, coerce=int, label=_("要求行业深度")
        )
        self.fields[prefix + "depth_industries"] = forms.IntegerField(
            min_value=1, max_value=99, label=_("达到深度的行业数")
        )
        self.fields[prefix + "breadth_count"] = forms.IntegerField(
            min_value=1,
            max_value=max(category_count, 1),
            required=False,
            label=_("广度：至少几个类别"),
        )
        self.fields[prefix + "breadth_level"] = forms.TypedChoiceField(
            choices=[("", "—"), *LEVEL_CHOICES],
            coerce=int,
            empty_value=None,
            required=False,
            label=_("广度：达到等级"),
        )
        self.fields[prefix + "validity_months"] = forms.IntegerField(
            min_value=1, max_value=240, label=_("证书有效期（月）")
        )
        for name in (
            "required_depth",
            "depth_industries",
            "breadth_count",
            "breadth_level",
            "validity_months",
        ):
            self.initial[prefix + name] = getattr(g, name)

    def clean(self):
        data = super().clean()
        for g in self.grades:
            count = data.get(f"g_{g.pk}_breadth_count")
            level = data.get(f"g_{g.pk}_breadth_level")
            if (count is None) != (level is None):
                self.add_error(
                    f"g_{g.pk}_breadth_count",
                    _("%(grade)s：广度要求需同时填写类别数和等级，或都不填。") % {"grade": g.code},
                )
        return data

    def rows(self):
        """Bound fields grade by grade, for the grid template."""
        return [
            {
                "grade": g,
                "cells": [self[f"t_{g.pk}_{c.pk}"] for c in self.categories],
                "profile": [
                    self[f"g_{g.pk}_{name}"]
                    for name in (
                        "required_depth",
                        "depth_industries",
                        "breadth_count",
                        "breadth_level",
                        "validity_months",
                    )
                ],
            }
            for g in self.grades
        ]

    def targets(self) -> dict:
        return {
            (g.pk, c.pk): self.cleaned_data[f"t_{g.pk}_{c.pk}"]
            for g in self.grades
            for c in self.categories
        }

    def profiles(self) -> dict:
        names = (
            "required_depth",
            "depth_industries",
            "breadth_count",
            "breadth_level",
            "validity_months",
        )
        return {g.pk: {n: self.cleaned_data[f"g_{g.pk}_{n}"] for n in names} for g in self.grades}
