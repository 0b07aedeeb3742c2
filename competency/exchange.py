"""The model exchange formats: a version ⇄ the JSON document (``tshape-model/1``) ⇄ an Excel workbook.

Export → import → export gives the identical document: every list keeps the model's order and
version numbers are not part of the document (the importing system numbers its own drafts).
"""

import io
import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .models import (
    LEVEL_VALUES,
    Category,
    DepthLevel,
    Domain,
    Grade,
    GradeTarget,
    Industry,
    LevelDescription,
    ModelVersion,
    ModelVersionEvent,
    ProficiencyLevel,
)

FORMAT = "tshape-model/1"
DEFAULT_MODEL_FILE = Path(__file__).resolve().parent / "data" / "default_model.json"
LANGS = ("zh-hans", "en")
CLASSIFICATION_KEYS = (
    "breadth_level",
    "breadth_count",
    "breadth_floor",
    "depth_level",
    "pi_industries",
)


class ModelDataError(Exception):
    """The document cannot become a model version; ``errors`` says where and why."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _texts(obj, field: str) -> dict[str, str]:
    return {"zh-hans": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


def export_version(version: ModelVersion) -> dict[str, Any]:
    """The version as the exchange document (a fixed number of queries)."""
    categories = list(version.categories.order_by("domain__order", "order"))
    descriptions: dict[int, dict[str, Any]] = {}
    for d in LevelDescription.objects.filter(category__version=version).order_by("level"):
        descriptions.setdefault(d.category_id, {})[str(d.level)] = _texts(d, "text")
    targets: dict[int, dict[str, int]] = {}
    order = {c.pk: i for i, c in enumerate(categories)}
    for t in sorted(
        GradeTarget.objects.filter(grade__version=version).select_related("category"),
        key=lambda t: order[t.category_id],
    ):
        targets.setdefault(t.grade_id, {})[t.category.code] = t.min_level
    return {
        "format": FORMAT,
        "version": {"name": _texts(version, "name")},
        "levels": [
            {"value": lv.value, "name": _texts(lv, "name")}
            for lv in version.levels.order_by("value")
        ],
        "depth_levels": [
            {"value": d.value, "name": _texts(d, "name"), "description": _texts(d, "description")}
            for d in version.depth_levels.order_by("value")
        ],
        "classification": {key: getattr(version, key) for key in CLASSIFICATION_KEYS},
        "domains": [
            {
                "code": domain.code,
                "name": _texts(domain, "name"),
                "motto": _texts(domain, "motto"),
                "categories": [
                    {
                        "code": c.code,
                        "name": _texts(c, "name"),
                        "description": _texts(c, "description"),
                        "levels": descriptions.get(c.pk, {}),
                    }
                    for c in categories
                    if c.domain_id == domain.pk
                ],
            }
            for domain in version.domains.order_by("order")
        ],
        "industries": [
            {"code": i.code, "name": _texts(i, "name")}
            for i in version.industries.order_by("order")
        ],
        "grades": [
            {
                "code": g.code,
                "name": _texts(g, "name"),
                "targets": targets.get(g.pk, {}),
                "depth": g.required_depth,
                "depth_industries": g.depth_industries,
                "breadth": None
                if g.breadth_count is None
                else {"count": g.breadth_count, "level": g.breadth_level},
                "validity_months": g.validity_months,
            }
            for g in version.grades.order_by("order")
        ],
    }


class _Checker:
    """Collects every problem of a document with its location, instead of stopping at the first."""

    def __init__(self):
        self.errors: list[str] = []

    def fail(self, where: str, message: str):
        self.errors.append(f"{where}: {message}")

    def mapping(self, value, where) -> dict:
        if not isinstance(value, dict):
            self.fail(where, _("应为对象"))
            return {}
        return value

    def items(self, value, where, *, min_len=1) -> list:
        if not isinstance(value, list):
            self.fail(where, _("应为列表"))
            return []
        if len(value) < min_len:
            self.fail(where, _("不能为空"))
        return value

    def texts(self, value, where, *, required=True):
        value = self.mapping(value, where)
        for lang in LANGS:
            text = value.get(lang)
            if not isinstance(text, str) or (required and not text.strip()):
                self.fail(f"{where}.{lang}", _("缺少文字（中文与英文都必须填写）"))

    def integer(self, value, where, low, high):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(where, _("应为 %(low)s 到 %(high)s 之间的整数") % {"low": low, "high": high})

    def code(self, value, where, seen: set):
        if not isinstance(value, str) or not value.strip():
            self.fail(where, _("缺少编码"))
        elif value in seen:
            self.fail(where, _("编码“%(code)s”重复") % {"code": value})
        else:
            seen.add(value)


def validate_model_data(data: Any) -> list[str]:
    """Every reason the document cannot be a complete model version (empty list when it can)."""
    check = _Checker()
    data = check.mapping(data, "$")
    if data.get("format", FORMAT) != FORMAT:
        check.fail("format", _("不支持的格式，应为 %(format)s") % {"format": FORMAT})
    check.texts(check.mapping(data.get("version"), "version").get("name"), "version.name")
    for key in ("levels", "depth_levels"):
        rows = check.items(data.get(key), key)
        if sorted(r.get("value") for r in rows if isinstance(r, dict)) != list(LEVEL_VALUES):
            check.fail(key, _("必须恰好包含等级 1 到 5"))
        for i, row in enumerate(rows):
            row = check.mapping(row, f"{key}[{i}]")
            check.texts(row.get("name"), f"{key}[{i}].name")
            if key == "depth_levels":
                check.texts(row.get("description"), f"{key}[{i}].description")
    classification = check.mapping(data.get("classification"), "classification")
    for key in CLASSIFICATION_KEYS:
        high = 5 if key.endswith(("level", "floor")) else 99
        check.integer(classification.get(key), f"classification.{key}", 1, high)
    category_codes = _check_domains(check, data.get("domains"))
    industry_codes: set = set()
    for i, row in enumerate(check.items(data.get("industries"), "industries")):
        row = check.mapping(row, f"industries[{i}]")
        check.code(row.get("code"), f"industries[{i}].code", industry_codes)
        check.texts(row.get("name"), f"industries[{i}].name")
    _check_grades(check, data.get("grades"), category_codes)
    return check.errors


def _check_domains(check: _Checker, domains) -> list[str]:
    domain_codes: set = set()
    category_codes: set = set()
    ordered: list[str] = []
    for i, domain in enumerate(check.items(domains, "domains")):
        where = f"domains[{i}]"
        domain = check.mapping(domain, where)
        check.code(domain.get("code"), f"{where}.code", domain_codes)
        check.texts(domain.get("name"), f"{where}.name")
        check.texts(domain.get("motto"), f"{where}.motto", required=False)
        for j, cat in enumerate(check.items(domain.get("categories"), f"{where}.categories")):
            cwhere = f"{where}.categories[{j}]"
            cat = check.mapping(cat, cwhere)
            check.code(cat.get("code"), f"{cwhere}.code", category_codes)
            ordered.append(cat.get("code"))
            check.texts(cat.get("name"), f"{cwhere}.name")
            check.texts(cat.get("description"), f"{cwhere}.description")
            levels = check.mapping(cat.get("levels"), f"{cwhere}.levels")
            if sorted(levels) != [str(v) for v in LEVEL_VALUES]:
                check.fail(f"{cwhere}.levels", _("必须为等级 1 到 5 各写一段行为描述"))
            for level, texts in levels.items():
                check.texts(texts, f"{cwhere}.levels.{level}")
    return ordered


def _check_grades(check: _Checker, grades, category_codes: list[str]):
    grade_codes: set = set()
    for i, grade in enumerate(check.items(grades, "grades")):
        where = f"grades[{i}]"
        grade = check.mapping(grade, where)
        check.code(grade.get("code"), f"{where}.code", grade_codes)
        check.texts(grade.get("name"), f"{where}.name")
        targets = check.mapping(grade.get("targets"), f"{where}.targets")
        missing = [c for c in category_codes if c not in targets]
        if missing:
            check.fail(
                f"{where}.targets",
                _("缺少类别的目标等级：%(codes)s") % {"codes": ", ".join(map(str, missing))},
            )
        for code, level in targets.items():
            if code not in category_codes:
                check.fail(f"{where}.targets.{code}", _("未知的能力类别"))
            check.integer(level, f"{where}.targets.{code}", 1, 5)
        check.integer(grade.get("depth"), f"{where}.depth", 0, 5)
        check.integer(grade.get("depth_industries"), f"{where}.depth_industries", 1, 99)
        check.integer(grade.get("validity_months"), f"{where}.validity_months", 1, 240)
        breadth = grade.get("breadth")
        if breadth is not None:
            breadth = check.mapping(breadth, f"{where}.breadth")
            check.integer(
                breadth.get("count"), f"{where}.breadth.count", 1, max(len(category_codes), 1)
            )
            check.integer(breadth.get("level"), f"{where}.breadth.level", 1, 5)


# --- files -------------------------------------------------------------------------------------

FILE_FORMATS = {".json": "json", ".xlsx": "xlsx", ".csv": "moodle-csv"}


def format_for(file_name: str) -> str | None:
    """The exchange format a file name suggests (json, xlsx or moodle-csv), None when unknown."""
    for suffix, fmt in FILE_FORMATS.items():
        if file_name.lower().endswith(suffix):
            return fmt
    return None


def read_document(content: bytes, fmt: str) -> dict:
    """The exchange document in a JSON or .xlsx file's bytes; ``ModelDataError`` when unreadable."""
    if fmt == "xlsx":
        from .workbook import data_from_workbook  # the workbook module builds on this one

        try:
            return data_from_workbook(io.BytesIO(content))
        except (KeyError, TypeError, AttributeError) as exc:
            # A workbook with the right sheets but a missing column or a malformed cell.
            raise ModelDataError(
                [_("Excel 文件的结构不符合模型格式（%(error)s）") % {"error": exc}]
            ) from exc
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDataError([_("不是有效的 UTF-8 JSON 文件：%(error)s") % {"error": exc}]) from exc


def _split(texts: dict, field: str) -> dict[str, str]:
    return {f"{field}_zh": texts["zh-hans"], f"{field}_en": texts["en"]}


def import_model_data(
    data: Any,
    *,
    by=None,
    based_on: ModelVersion | None = None,
    note: str = "",
    details: dict | None = None,
) -> ModelVersion:
    """Create a new draft version from the document, all or nothing; raises ``ModelDataError``."""
    errors = validate_model_data(data)
    if errors:
        raise ModelDataError(errors)
    with transaction.atomic():
        # Lock the version table's tail so two imports cannot pick the same number.
        last = ModelVersion.objects.select_for_update().order_by("-number").first()
        number = (last.number if last else 0) + 1
        version = ModelVersion.objects.create(
            number=number,
            based_on=based_on,
            **_split(data["version"]["name"], "name"),
            **data["classification"],
        )
        _create_parts(version, data)
        ModelVersionEvent.objects.create(
            version=version,
            action=ModelVersionEvent.Action.CREATED
            if based_on
            else ModelVersionEvent.Action.IMPORTED,
            actor=by,
            note=note,
            details={"based_on": based_on.number if based_on else None, **(details or {})},
        )
    return version


def _create_parts(version: ModelVersion, data: dict):
    ProficiencyLevel.objects.bulk_create(
        ProficiencyLevel(version=version, value=r["value"], **_split(r["name"], "name"))
        for r in data["levels"]
    )
    DepthLevel.objects.bulk_create(
        DepthLevel(
            version=version,
            value=r["value"],
            **_split(r["name"], "name"),
            **_split(r["description"], "description"),
        )
        for r in data["depth_levels"]
    )
    categories: dict[str, Category] = {}
    descriptions = []
    for d_order, d in enumerate(data["domains"], start=1):
        domain = Domain.objects.create(
            version=version,
            code=d["code"],
            order=d_order,
            **_split(d["name"], "name"),
            **_split(d.get("motto") or {"zh-hans": "", "en": ""}, "motto"),
        )
        for c_order, c in enumerate(d["categories"], start=1):
            category = Category.objects.create(
                version=version,
                domain=domain,
                code=c["code"],
                order=c_order,
                **_split(c["name"], "name"),
                **_split(c["description"], "description"),
            )
            categories[c["code"]] = category
            descriptions.extend(
                LevelDescription(
                    version=version, category=category, level=int(level), **_split(texts, "text")
                )
                for level, texts in sorted(c["levels"].items())
            )
    LevelDescription.objects.bulk_create(descriptions)
    Industry.objects.bulk_create(
        Industry(version=version, code=r["code"], order=i, **_split(r["name"], "name"))
        for i, r in enumerate(data["industries"], start=1)
    )
    targets = []
    for g_order, g in enumerate(data["grades"], start=1):
        breadth = g.get("breadth") or {}
        grade = Grade.objects.create(
            version=version,
            code=g["code"],
            order=g_order,
            required_depth=g["depth"],
            depth_industries=g["depth_industries"],
            breadth_count=breadth.get("count"),
            breadth_level=breadth.get("level"),
            validity_months=g["validity_months"],
            **_split(g["name"], "name"),
        )
        targets.extend(
            GradeTarget(version=version, grade=grade, category=categories[code], min_level=level)
            for code, level in g["targets"].items()
        )
    GradeTarget.objects.bulk_create(targets)
