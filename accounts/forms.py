"""Forms of the accounts pages."""

from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from config import uploads

ORG_FILE_MAX_BYTES = 5 * 1024 * 1024
ORG_FILE_SUFFIXES = (".csv", ".xlsx")


class OrgImportForm(forms.Form):
    """The organisation file to check: .csv or .xlsx, at most 5 MB, its content of that kind."""

    file = forms.FileField(
        label=_("组织与人员文件"),
        help_text=_("CSV 或 Excel (.xlsx)，不超过 5 MB。"),
        error_messages={
            "required": _("请选择要上传的文件。"),
            "empty": _("上传的文件是空的。"),
            "invalid": _("没有收到文件，请检查表单的编码类型。"),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ORG_FILE_SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in ORG_FILE_SUFFIXES:
            raise forms.ValidationError(_("只能上传 .csv 或 .xlsx 文件。"), code="extension")
        uploads.check_size(upload, ORG_FILE_MAX_BYTES)
        uploads.check_content(upload, suffix)
        upload.name = uploads.safe_name(upload.name)
        return upload
