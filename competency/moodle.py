"""A Moodle competency framework CSV (``tool_lpimportcsv``) mapped onto a model exchange document.

The file is Moodle's export: a header row, then one row per competency plus one row with
"Is framework" = 1 that carries the framework's short name, its scale ("Scale values", the names
from lowest to highest, comma-separated) and "Scale configuration" (JSON). "Parent ID number" builds
the tree; an empty parent means a top-level competency.

The mapping (pure; what Moodle does not have comes from ``reference``, a complete document):

* tier 1 → domains, tier 2 → categories, in file order; a deeper tier cannot map (an error);
  codes are numbered like the default model ("1", "1.1"), the Moodle ID numbers show in the preview;
* the framework's scale → proficiency levels 1–5 (exactly five values, else an error); each
  category's five level descriptions default to the scale value names;
* Moodle texts are in one language: every text goes into both Chinese and English (a warning);
  HTML is stripped from descriptions; a category without a description gets its short name;
* depth levels, industries, grades and classification thresholds come from ``reference``; every
  grade requires the default minimum ``DEFAULT_TARGET_LEVEL`` in every new category and loses its
  breadth rule (it counted the reference's categories).

Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

from django.utils.translation import gettext as _

from .exchange import FORMAT, LANGS, validate_model_data

DEFAULT_TARGET_LEVEL = 1
SCALE_SIZE = 5
MAX_NAME = 100
MAX_LEVEL_NAME = 50
MAX_MOTTO = 200

# Moodle's header names (current and older spellings), compared without case, spaces or punctuation.
COLUMNS = {
    "parentidnumber": "parent",
    "idnumber": "idnumber",
    "shortname": "shortname",
    "description": "description",
    "descriptionformat": "descriptionformat",
    "scalevalues": "scalevalues",
    "scaleconfiguration": "scaleconfiguration",
    "ruletype": "ruletype",
    "ruletypeoptional": "ruletype",
    "ruleoutcome": "ruleoutcome",
    "ruleoutcomeoptional": "ruleoutcome",
    "ruleconfig": "ruleconfig",
    "ruleconfigoptional": "ruleconfig",
    "crossreferencedcompetencyidnumbers": "related",
    "relatedidnumbers": "related",
    "exportedid": "exportid",
    "exportedidoptional": "exportid",
    "isframework": "isframework",
    "taxonomy": "taxonomy",
}
REQUIRED = ("parent", "idnumber", "shortname", "description", "scalevalues", "isframework")
TRUE_VALUES = {"1", "true", "yes", "y"}


@dataclass
class MoodlePreview:
    """What the file maps to, its warnings and errors (with rows), and the document when it maps."""

    framework: dict | None = None
    scale: list[dict] = field(default_factory=list)
    taxonomies: list[str] = field(default_factory=list)
    domains: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    document: dict | None = None
    reference: str = ""

    def error(self, row: int | None, message: str):
        self.errors.append({"row": row, "message": message})

    def warn(self, row: int | None, message: str):
        self.warnings.append({"row": row, "message": message})

    @property
    def ok(self) -> bool:
        return not self.errors and self.document is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _TextOnly(HTMLParser):
    """Collects an HTML fragment's text; block ends become line breaks."""

    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Plain text of a Moodle description: tags removed, entities decoded, blank lines dropped."""
    parser = _TextOnly()
    parser.feed(text or "")
    parser.close()
    lines = (" ".join(line.split()) for line in unescape("".join(parser.parts)).splitlines())
    return "\n".join(line for line in lines if line)


def _both(text: str) -> dict[str, str]:
    return dict.fromkeys(LANGS, text)


def _decode(content: bytes, preview: MoodlePreview) -> str | None:
    if not content.strip():
        preview.error(None, _("文件是空的。"))
        return None
    if b"\x00" in content:
        preview.error(None, _("这不是 CSV 文本文件（含有二进制内容）；请在 Moodle 中导出 CSV。"))
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    preview.error(None, _("无法识别文件编码；请保存为 UTF-8 编码的 CSV。"))
    return None


def _read_records(text: str, preview: MoodlePreview) -> list[tuple[int, dict]] | None:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        preview.error(
            reader.line_num,
            _("不是有效的 CSV 文件：%(error)s") % {"error": exc},
        )
        return None
    if not rows:
        preview.error(None, _("文件是空的。"))
        return None
    header = [COLUMNS.get("".join(ch for ch in h.lower() if ch.isalnum())) for h in rows[0]]
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        preview.error(
            1,
            _("缺少 Moodle 能力框架的列：%(columns)s（应为 Moodle 导出的能力框架 CSV）")
            % {"columns": ", ".join(missing)},
        )
        return None
    unknown = [h for h, key in zip(rows[0], header, strict=True) if key is None]
    if unknown:
        preview.warn(1, _("已忽略未知的列：%(columns)s") % {"columns": ", ".join(unknown)})
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = dict.fromkeys(COLUMNS.values(), "")
        for key, cell in zip(header, row, strict=False):
            if key is not None:
                values[key] = cell.strip()
        records.append((number, values))
    return records


def _read_scale(row: int, values: dict, preview: MoodlePreview):
    names = (
        [name.strip() for name in values["scalevalues"].split(",")] if values["scalevalues"] else []
    )
    if len(names) != SCALE_SIZE or not all(names):
        preview.error(
            row,
            _(
                "能力框架的等级量表有 %(n)s 个值（%(values)s）；T-Shape 的熟练等级恰好为 1–5 级，"
                "只能映射恰好 5 个值的量表。"
            )
            % {"n": len([n for n in names if n]), "values": values["scalevalues"] or "—"},
        )
        return
    for name in names:
        if len(name) > MAX_LEVEL_NAME:
            preview.error(
                row,
                _("量表值“%(name)s”超过 %(max)s 个字符。") % {"name": name, "max": MAX_LEVEL_NAME},
            )
    proficient, default = _scale_configuration(row, values["scaleconfiguration"], preview)
    preview.scale = [
        {"level": i, "name": name, "proficient": i in proficient, "default": i == default}
        for i, name in enumerate(names, start=1)
    ]


def _scale_configuration(row: int, raw: str, preview: MoodlePreview) -> tuple[set, int | None]:
    """Which scale values Moodle marks as proficient and default (only shown, never required)."""
    try:
        config = json.loads(raw) if raw else []
        items = [item for item in config[1:] if isinstance(item, dict)]
        proficient = {int(item["id"]) for item in items if str(item.get("proficient")) == "1"}
        default = next((int(i["id"]) for i in items if str(i.get("scaledefault")) == "1"), None)
    except (ValueError, TypeError, KeyError, IndexError):
        preview.warn(row, _("无法读取量表配置（Scale configuration），已忽略。"))
        return set(), None
    return proficient, default


def _framework(records, preview: MoodlePreview) -> dict | None:
    frames = [(n, v) for n, v in records if v["isframework"].lower() in TRUE_VALUES]
    if not frames:
        preview.error(
            None,
            _("缺少能力框架行（Is framework = 1）：它带有框架名称和等级量表。"),
        )
        return None
    for number, _values in frames[1:]:
        preview.error(number, _("文件只能包含一个能力框架行（Is framework = 1）。"))
    number, values = frames[0]
    if not values["shortname"]:
        preview.error(number, _("能力框架行缺少名称（Short name）。"))
    _read_scale(number, values, preview)
    preview.taxonomies = [t.strip() for t in values["taxonomy"].split(",") if t.strip()]
    preview.framework = {
        "row": number,
        "idnumber": values["idnumber"],
        "shortname": values["shortname"][:MAX_NAME],
    }
    return values


def _competencies(records, preview: MoodlePreview) -> dict[str, tuple[int, dict]]:
    """Competency rows by ID number; rows without one, or repeating one, are errors."""
    by_id: dict[str, tuple[int, dict]] = {}
    for number, values in records:
        if values["isframework"].lower() in TRUE_VALUES:
            continue
        idnumber = values["idnumber"]
        if not idnumber:
            preview.error(number, _("缺少 ID number。"))
            continue
        if idnumber in by_id:
            preview.error(
                number,
                _("ID number“%(id)s”重复（第 %(row)s 行已使用）。")
                % {"id": idnumber, "row": by_id[idnumber][0]},
            )
            continue
        if not values["shortname"]:
            preview.error(number, _("缺少名称（Short name）。"))
        elif len(values["shortname"]) > MAX_NAME:
            preview.error(number, _("名称超过 %(max)s 个字符。") % {"max": MAX_NAME})
        by_id[idnumber] = (number, values)
    return by_id


def _tiers(by_id: dict, preview: MoodlePreview) -> dict[str, int | None]:
    """Each competency's tier (1 = top level); None below a broken link, reported once."""
    tiers: dict[str, int | None] = {}
    for idnumber in by_id:
        chain: list[str] = []
        current, base = idnumber, None
        while True:
            if current in tiers:
                base = tiers[current]
                break
            number, values = by_id[current]
            chain.append(current)
            parent = values["parent"]
            if not parent:
                base = 0
                break
            if parent not in by_id:
                preview.error(
                    number,
                    _("未知的上级 ID number“%(parent)s”（顶层能力的 Parent ID number 留空）。")
                    % {"parent": parent},
                )
                break
            if parent in chain:
                loop = " → ".join([*chain[chain.index(parent) :], parent])
                preview.error(number, _("上级关系形成了循环：%(chain)s") % {"chain": loop})
                break
            current = parent
        for steps, member in enumerate(reversed(chain), start=1):
            tiers[member] = None if base is None else base + steps
    return tiers


def _description(number: int, values: dict, preview: MoodlePreview) -> str:
    text = strip_html(values["description"])
    if not text:
        preview.warn(
            number, _("“%(name)s”没有说明，已用名称代替。") % {"name": values["shortname"]}
        )
        return values["shortname"]
    return text


def _tree(by_id: dict, preview: MoodlePreview):
    """Domains (tier 1) with their categories (tier 2), in file order, numbered like our model."""
    domains: dict[str, dict] = {}
    tiers = _tiers(by_id, preview)
    for idnumber, (number, values) in by_id.items():
        tier = tiers[idnumber]
        if tier is None:
            continue
        if tier > 2:
            preview.error(
                number,
                _(
                    "“%(name)s”位于第 %(tier)s 层，无法映射：T-Shape 只有两层"
                    "（第 1 层为能力领域，第 2 层为能力类别）。"
                )
                % {"name": values["shortname"], "tier": tier},
            )
        elif tier == 1:
            motto = strip_html(values["description"])
            if len(motto) > MAX_MOTTO:
                preview.warn(
                    number, _("领域说明超过 %(max)s 个字符，已截断。") % {"max": MAX_MOTTO}
                )
            domains[idnumber] = {
                "code": str(len(domains) + 1),
                "idnumber": idnumber,
                "name": values["shortname"],
                "motto": motto[:MAX_MOTTO],
                "row": number,
                "categories": [],
            }
    for idnumber, (number, values) in by_id.items():
        domain = domains.get(values["parent"])
        if domain is None:
            continue
        domain["categories"].append(
            {
                "code": f"{domain['code']}.{len(domain['categories']) + 1}",
                "idnumber": idnumber,
                "name": values["shortname"],
                "description": _description(number, values, preview),
                "row": number,
            }
        )
        _own_scale(number, values, preview)
    for domain in domains.values():
        if not domain["categories"]:
            preview.error(
                domain["row"],
                _("能力领域“%(name)s”下没有第 2 层能力（类别），无法映射。")
                % {"name": domain["name"]},
            )
    if not domains and not preview.errors:
        preview.error(None, _("文件中没有能力（除能力框架行外没有数据行）。"))
    preview.domains = list(domains.values())


def _own_scale(number: int, values: dict, preview: MoodlePreview):
    own = [name.strip() for name in values["scalevalues"].split(",")]
    if values["scalevalues"] and own != [s["name"] for s in preview.scale]:
        preview.warn(number, _("此能力有自己的量表，已忽略：等级统一采用能力框架的量表。"))


def _ignored_features(records, preview: MoodlePreview):
    rules = [n for n, v in records if v["ruletype"] or v["ruleconfig"] not in ("", "null")]
    related = [n for n, v in records if v["related"]]
    if rules:
        preview.warn(rules[0], _("Moodle 的完成规则（Rule）在 T-Shape 中没有对应项，已忽略。"))
    if related:
        preview.warn(related[0], _("交叉引用的能力（Cross-referenced）已忽略。"))


def _document(preview: MoodlePreview, reference: dict) -> dict:
    levels = {s["level"]: s["name"] for s in preview.scale}
    category_codes = [c["code"] for d in preview.domains for c in d["categories"]]
    classification = dict(reference["classification"])
    if classification["breadth_count"] > len(category_codes):
        classification["breadth_count"] = len(category_codes)
    return {
        "format": FORMAT,
        "version": {"name": _both(preview.framework["shortname"])},
        "levels": [{"value": v, "name": _both(name)} for v, name in levels.items()],
        "depth_levels": reference["depth_levels"],
        "classification": classification,
        "domains": [
            {
                "code": d["code"],
                "name": _both(d["name"]),
                "motto": _both(d["motto"]),
                "categories": [
                    {
                        "code": c["code"],
                        "name": _both(c["name"]),
                        "description": _both(c["description"]),
                        "levels": {str(v): _both(name) for v, name in levels.items()},
                    }
                    for c in d["categories"]
                ],
            }
            for d in preview.domains
        ],
        "industries": reference["industries"],
        "grades": [
            {
                **grade,
                "targets": dict.fromkeys(category_codes, DEFAULT_TARGET_LEVEL),
                "breadth": None,
            }
            for grade in reference["grades"]
        ],
    }


def _default_content_warnings(preview: MoodlePreview, reference: dict):
    preview.warn(
        None,
        _("Moodle 的文字只有一种语言：名称和说明已同时填入中文和英文，发布前请审阅并翻译。"),
    )
    preview.warn(
        None,
        _("每个类别的 5 段等级行为描述暂用量表值名称，发布前请写成具体的行为描述。"),
    )
    preview.warn(
        None,
        _(
            "行业研究深度等级、行业、认证等级和画像分类阈值取自%(source)s；"
            "每个认证等级对新类别的目标等级默认为 %(level)s 级，广度要求已取消，请在目标画像中调整。"
        )
        % {"source": preview.reference, "level": DEFAULT_TARGET_LEVEL},
    )
    wanted = reference["classification"]["breadth_count"]
    count = sum(len(d["categories"]) for d in preview.domains)
    if wanted > count:
        preview.warn(
            None,
            _("画像分类的广度达标类别数由 %(old)s 调整为类别总数 %(new)s。")
            % {"old": wanted, "new": count},
        )


def read_moodle_csv(content: bytes, *, reference: dict, reference_label: str) -> MoodlePreview:
    """Map a Moodle framework CSV onto a document; ``preview.document`` is None on any error."""
    preview = MoodlePreview(reference=reference_label)
    text = _decode(content, preview)
    records = _read_records(text, preview) if text is not None else None
    if records is None:
        return preview
    framework = _framework(records, preview)
    by_id = _competencies(records, preview)
    _tree(by_id, preview)
    _ignored_features(records, preview)
    if framework is None or preview.errors:
        return preview
    document = _document(preview, reference)
    for problem in validate_model_data(document):
        preview.error(None, problem)
    if not preview.errors:
        _default_content_warnings(preview, reference)
        preview.document = document
    return preview
