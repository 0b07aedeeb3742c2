"""The self-assessment form (fields built from the assessment's categories and the model's
industries) and the evidence upload form.

Field names are stable, the browser tests and the API rely on them: ``level-<category code>``,
``comment-<category code>``, ``industry`` (checked industry codes), ``depth-<industry code>``,
``evidence-<industry code>``, ``self_comment`` and ``revision``.
"""

from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.templatetags.tshape import join_list
from config import uploads

from ..models import Evidence
from ..selectors import CategoryItem, IndustryItem, Sheet
from ..services import COMMENT_MAX, IndustryInput, RatingInput

LEVEL_CHOICES = [(str(v), str(v)) for v in range(1, 6)]


class LongTextField(forms.CharField):
    """A comment: line breaks count once (browsers post CRLF), at most ``COMMENT_MAX`` characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", COMMENT_MAX)
        kwargs.setdefault(
            "error_messages",
            {"max_length": _("不能超过 %(limit_value)d 个字（现在 %(show_value)d 个）。")},
        )
        super().__init__(widget=forms.Textarea, **kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


def level_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        choices=LEVEL_CHOICES,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择 1 到 5 之间的等级。")},
    )


@dataclass
class CategoryFields:
    """A category row of the page: the model's texts plus its bound fields."""

    item: CategoryItem
    level: forms.BoundField
    comment: forms.BoundField
    selected: str
    missing: bool


@dataclass
class IndustryFields:
    """An industry row of the page: chosen or not, its depth and evidence fields."""

    item: IndustryItem
    chosen: bool
    depth: forms.BoundField
    evidence: forms.BoundField
    selected: str
    missing: bool


class SelfAssessmentForm(forms.Form):
    """Everything the person rates on one page; turns into ``save_self_assessment`` arguments."""

    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    # Set by autosave: the same token on every retry of one save, so a retry whose first try
    # reached the server (the answer was lost) is not refused as stale.
    save_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    industry = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("未知的行业：%(value)s")},
    )
    self_comment = LongTextField()

    def __init__(self, data=None, *, sheet: Sheet, **kwargs):
        self.sheet = sheet
        if data is None:
            kwargs.setdefault("initial", initial_from(sheet))
        super().__init__(data, **kwargs)
        for item in sheet.categories:
            self.fields[f"level-{item.code}"] = level_field()
            self.fields[f"comment-{item.code}"] = LongTextField()
        self.fields["industry"].choices = [(i.code, i.industry.name) for i in sheet.industries]
        for item in sheet.industries:
            self.fields[f"depth-{item.code}"] = level_field()
            self.fields[f"evidence-{item.code}"] = LongTextField()
        # Filled in by the page when a submit was refused: field names to mark as missing.
        self.missing: set[str] = set()

    def clean(self):
        data = super().clean()
        chosen = set(self.chosen_codes())
        # Depth and evidence of an industry that is not chosen are not saved: not an error either.
        for item in self.sheet.industries:
            if item.code not in chosen:
                for name in (f"depth-{item.code}", f"evidence-{item.code}"):
                    self._errors.pop(name, None)
                    data.pop(name, None)
        return data

    def chosen_codes(self) -> list[str]:
        if hasattr(self, "cleaned_data") and "industry" in self.cleaned_data:
            return self.cleaned_data["industry"]
        value = self["industry"].value() or []
        return [str(v) for v in value]

    def service_arguments(self) -> dict:
        """Keyword arguments for ``services.save_self_assessment`` (everything on the page)."""
        data = self.cleaned_data
        return {
            "revision": data["revision"],
            "save_token": data.get("save_token") or "",
            "ratings": {
                item.code: RatingInput(data[f"level-{item.code}"], data[f"comment-{item.code}"])
                for item in self.sheet.categories
            },
            "industries": {
                code: IndustryInput(data.get(f"depth-{code}"), data.get(f"evidence-{code}", ""))
                for code in data["industry"]
            },
            "comment": data["self_comment"],
        }

    def mark_missing(self, missing=()) -> None:
        """Mark the fields behind ``IncompleteAssessment.missing``: the field each item names,
        else worked out from what was posted (which is what was just saved)."""
        named = {getattr(item, "field", "") for item in missing} - {""}
        if named:
            self.missing = named
            return
        data = self.cleaned_data
        self.missing = {
            f"level-{i.code}" for i in self.sheet.categories if data[f"level-{i.code}"] is None
        }
        self.missing |= {f"depth-{c}" for c in data["industry"] if data.get(f"depth-{c}") is None}
        if not data["industry"]:
            self.missing.add("industry")

    def error_dict(self) -> dict[str, list[str]]:
        return {name: [str(m) for m in messages] for name, messages in self.errors.items()}

    def category_sections(self) -> list[dict]:
        """Domains in model order, each with its category rows bound to this form."""
        return [
            {
                "domain": block.domain,
                "rows": [self._category_fields(item) for item in block.categories],
            }
            for block in self.sheet.domains
        ]

    def _category_fields(self, item: CategoryItem) -> CategoryFields:
        level = self[f"level-{item.code}"]
        return CategoryFields(
            item=item,
            level=level,
            comment=self[f"comment-{item.code}"],
            selected=_as_text(level.value()),
            missing=level.name in self.missing,
        )

    def industry_rows(self) -> list[IndustryFields]:
        chosen = set(self.chosen_codes())
        rows = []
        for item in self.sheet.industries:
            depth = self[f"depth-{item.code}"]
            rows.append(
                IndustryFields(
                    item=item,
                    chosen=item.code in chosen,
                    depth=depth,
                    evidence=self[f"evidence-{item.code}"],
                    selected=_as_text(depth.value()),
                    missing=depth.name in self.missing,
                )
            )
        return rows


def _as_text(value) -> str:
    return "" if value is None else str(value)


def initial_from(sheet: Sheet) -> dict:
    """The form's values as stored: what the person saved last."""
    initial = {"revision": sheet.assessment.revision, "self_comment": sheet.assessment.self_comment}
    for item in sheet.categories:
        initial[f"level-{item.code}"] = item.rating.self_level
        initial[f"comment-{item.code}"] = item.rating.self_comment
    initial["industry"] = [item.code for item in sheet.chosen_industries]
    for item in sheet.chosen_industries:
        initial[f"depth-{item.code}"] = item.rating.self_depth
        initial[f"evidence-{item.code}"] = item.rating.evidence
    return initial


def allowed_types_text() -> str:
    return join_list(sorted(Evidence.ALLOWED_SUFFIXES))


class EvidenceForm(forms.Form):
    """An evidence file for one category or one industry: size, extension and content checked on
    the server (``config.uploads``); the uploaded name is kept only as a sanitised display name."""

    file = forms.FileField(
        label=_("文件"),
        error_messages={"required": _("请选择要上传的文件。"), "empty": _("文件是空的。")},
    )
    category = forms.CharField(required=False)
    industry = forms.CharField(required=False)

    def __init__(self, *args, sheet: Sheet, **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet

    def clean_file(self):
        upload = self.cleaned_data["file"]
        uploads.check_size(upload, Evidence.MAX_BYTES)
        suffix = self.suffix(upload)
        if suffix not in Evidence.ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                gettext("不支持这种文件类型。允许的类型：%(types)s。")
                % {"types": allowed_types_text()}
            )
        self.kind = uploads.check_content(upload, suffix)
        return upload

    @staticmethod
    def suffix(upload) -> str:
        return Path(upload.name or "").suffix.lower()

    def clean(self):
        data = super().clean()
        categories = {i.code: i.category for i in self.sheet.categories}
        industries = {i.code: i.industry for i in self.sheet.industries}
        code, kind = data.get("category"), "category"
        if not code:
            code, kind = data.get("industry"), "industry"
        subject = (categories if kind == "category" else industries).get(code or "")
        if subject is None:
            raise forms.ValidationError(_("请指明文件属于哪个能力类别或行业。"))
        data["subject"] = (kind, subject)
        return data

    def evidence(self, *, by) -> Evidence:
        """The unsaved row: the content type comes from our table, never from the browser."""
        upload = self.cleaned_data["file"]
        kind, subject = self.cleaned_data["subject"]
        return Evidence(
            assessment=self.sheet.assessment,
            file=upload,
            original_name=uploads.safe_name(upload.name),
            size=upload.size,
            content_type=self.kind.content_type,
            uploaded_by=by,
            **{kind: subject},
        )

    def anchor(self) -> str:
        """Where the page should scroll back to after the upload."""
        code = self.data.get("category") or ""
        item = next((i for i in self.sheet.categories if i.code == code), None)
        if item is None:
            item = next(
                (i for i in self.sheet.industries if i.code == self.data.get("industry")), None
            )
        return item.anchor if item else ""


def megabytes(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"
