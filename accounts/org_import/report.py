"""The import's vocabulary: sheet names, messages, rows, errors and the report."""

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

UNITS, PEOPLE, CSV_SHEET, RECORD = "units", "people", "csv", "record"
COUNT_LABELS = {
    "units_created": _("新建单位"),
    "units_updated": _("更新单位"),
    "units_unchanged": _("未变单位"),
    "people_created": _("新建人员"),
    "people_updated": _("更新人员"),
    "people_unchanged": _("未变人员"),
    "heads_added": _("新增负责人"),
}

# Messages are stored untranslated (msgid + params) and translated when read, so a stored report
# follows the language of whoever reads it.
MSG_EMPTY_FILE = gettext_noop("文件为空")
MSG_NO_ROWS = gettext_noop("文件中没有任何单位或人员数据")
MSG_BAD_TYPE = gettext_noop("不支持的文件类型，请上传 .csv 或 .xlsx 文件")
MSG_NOT_XLSX = gettext_noop("无法读取文件：不是有效的 Excel (.xlsx) 工作簿")
MSG_BAD_ENCODING = gettext_noop("无法读取文件：编码既不是 UTF-8 也不是 GB18030")
MSG_BAD_CSV = gettext_noop("无法读取 CSV 文件：%(error)s")
MSG_MISSING_SHEET = gettext_noop("缺少工作表“%(sheet)s”")
MSG_MISSING_HEADER = gettext_noop("第 1 行必须是列标题")
MSG_UNKNOWN_COLUMN = gettext_noop("未知的列“%(column)s”")
MSG_DUPLICATE_COLUMN = gettext_noop("列“%(column)s”重复")
MSG_MISSING_COLUMN = gettext_noop("缺少必需的列“%(column)s”")
MSG_BAD_RECORD = gettext_noop("record 列必须是 unit 或 person，而不是“%(value)s”")
MSG_UNIT_ROW_PERSON_VALUE = gettext_noop("单位行不应填写人员列")
MSG_PERSON_ROW_UNIT_VALUE = gettext_noop("人员行不应填写单位列")
MSG_REQUIRED = gettext_noop("必须填写")
MSG_TOO_LONG = gettext_noop("不能超过 %(max)s 个字符")
MSG_BAD_KIND = gettext_noop("单位类型“%(value)s”无效，可选：%(choices)s")
MSG_UNKNOWN_PARENT = gettext_noop("上级单位“%(code)s”不存在")
MSG_DUPLICATE_UNIT = gettext_noop("单位编码“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_CYCLE = gettext_noop("上级单位形成循环：%(chain)s")
MSG_DUPLICATE_EMPLOYEE = gettext_noop("工号“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_DUPLICATE_USERNAME = gettext_noop("用户名“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_USERNAME_TAKEN = gettext_noop("用户名“%(value)s”已被其他人员使用（工号 %(employee_no)s）")
MSG_BAD_USERNAME = gettext_noop("用户名“%(value)s”只能包含字母、数字和 @.+-_")
MSG_BAD_EMAIL = gettext_noop("邮箱“%(value)s”格式不正确")
MSG_BAD_LANGUAGE = gettext_noop("语言“%(value)s”无效，可选：%(choices)s")
MSG_BAD_ROLE = gettext_noop("角色“%(value)s”无效，可选：%(choices)s")
MSG_BAD_GRADE = gettext_noop("职级“%(value)s”不是当前发布模型的认证等级（可选：%(choices)s）")
MSG_UNKNOWN_UNIT = gettext_noop("单位“%(code)s”不存在")
MSG_BAD_FLAG = gettext_noop("“%(value)s”不是有效的是/否值（可填 yes/no/true/false/1/0/是/否）")


@dataclass(frozen=True)
class RowError:
    """A problem at one place of the file; the message is translated when read."""

    sheet: str
    row: int | None
    column: str
    msgid: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return gettext(self.msgid) % self.params

    def as_line(self) -> str:
        return f"{self.sheet or '-'}:{self.row or '-'}:{self.column or '-'}: {self.message}"

    def as_dict(self) -> dict:
        keys = ("sheet", "row", "column", "msgid", "params")
        return {key: getattr(self, key) for key in keys} | {"message": self.message}


@dataclass
class ImportReport:
    """What an import found wrong, or (when nothing is) what it changes."""

    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count_rows(self) -> list[tuple[str, int]]:
        """(translated label, number) in display order."""
        return [(str(label), self.counts.get(key, 0)) for key, label in COUNT_LABELS.items()]

    def as_dict(self) -> dict:
        return {"ok": self.ok, "counts": self.counts, "errors": [e.as_dict() for e in self.errors]}

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        keys = ("sheet", "row", "column", "msgid", "params")
        errors = [RowError(**{key: e[key] for key in keys}) for e in data.get("errors", [])]
        return cls(errors=errors, counts=data.get("counts", {}))


class OrgFileError(Exception):
    """The file cannot be read as an organisation file; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(e.as_line() for e in errors))
        self.errors = errors


class OrgImportRefused(Exception):
    """A stored upload may not be applied (already applied, or it failed its check)."""


@dataclass(frozen=True)
class Row:
    """One data row: where it is in the file and its non-blank cells by column."""

    sheet: str
    number: int
    values: dict[str, str]
    columns: frozenset[str]  # the columns of its kind present in the header

    def error(self, column: str, msgid: str, **params) -> RowError:
        return RowError(self.sheet, self.number, column, msgid, params)
