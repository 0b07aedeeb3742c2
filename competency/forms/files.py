"""The model file upload: JSON, Excel or a Moodle framework CSV, checked by content."""

from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from config import uploads

from ..exchange import FILE_FORMATS
from ..models import ModelImport

MODEL_FILE_MAX_BYTES = 5 * 1024 * 1024
# The content check of each format is that of the extension the format normally has.
FORMAT_SUFFIXES = {fmt: suffix for suffix, fmt in FILE_FORMATS.items()}


class ModelFileForm(forms.Form):
    """A model file to preview: JSON, Excel or a Moodle framework CSV, at most 5 MB, its content
    of the format it is read as (named, or told by the extension)."""

    file = forms.FileField(
        label=_("模型文件"),
        help_text=_("JSON（tshape-model/1）、Excel（.xlsx）或 Moodle 能力框架 CSV，不超过 5 MB。"),
        error_messages={
            "required": _("请选择要上传的文件。"),
            "empty": _("上传的文件是空的。"),
            "invalid": _("没有收到文件，请检查表单的编码类型。"),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(FILE_FORMATS)}),
    )
    file_format = forms.ChoiceField(
        label=_("格式"),
        required=False,
        choices=[("", _("按扩展名判断")), *ModelImport.Format.choices],
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is None:
            return data
        suffix = Path(upload.name).suffix.lower()
        if not data.get("file_format"):
            if suffix not in FILE_FORMATS:
                self.add_error("file", _("只能上传 .json、.xlsx 或 .csv 文件。"))
                return data
            data["file_format"] = FILE_FORMATS[suffix]
        try:
            uploads.check_size(upload, MODEL_FILE_MAX_BYTES)
            uploads.check_content(upload, FORMAT_SUFFIXES[data["file_format"]])
        except forms.ValidationError as error:
            self.add_error("file", error)
            return data
        upload.name = uploads.safe_name(upload.name)
        return data
