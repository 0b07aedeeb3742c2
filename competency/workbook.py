"""The exchange document as an Excel workbook and back: one sheet per part of the model, both
languages side by side, so that an operator can edit a model in Excel and import it again."""

import io

from django.utils.translation import gettext as _

from .exchange import CLASSIFICATION_KEYS, LANGS, ModelDataError

SHEETS = {
    "version": ["key", "value"],
    "levels": ["value", "name_zh-hans", "name_en"],
    "depth_levels": ["value", "name_zh-hans", "name_en", "description_zh-hans", "description_en"],
    "domains": ["code", "name_zh-hans", "name_en", "motto_zh-hans", "motto_en"],
    "categories": [
        "domain",
        "code",
        "name_zh-hans",
        "name_en",
        "description_zh-hans",
        "description_en",
    ],
    "level_descriptions": ["category", "level", "text_zh-hans", "text_en"],
    "industries": ["code", "name_zh-hans", "name_en"],
    "grades": [
        "code",
        "name_zh-hans",
        "name_en",
        "depth",
        "depth_industries",
        "breadth_count",
        "breadth_level",
        "validity_months",
    ],
    "targets": ["grade"],  # followed by one column per category code
}


def _bi(row: dict, field: str) -> dict[str, str]:
    return {lang: row.get(f"{field}_{lang}") or "" for lang in LANGS}


def _row(texts: dict) -> list[str]:
    return [texts["zh-hans"], texts["en"]]


def workbook_from_data(data: dict) -> bytes:
    """The document as an .xlsx workbook, one sheet per part."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    category_codes = [c["code"] for d in data["domains"] for c in d["categories"]]
    rows: dict[str, list[list]] = {
        "version": [
            ["format", data["format"]],
            ["name_zh-hans", data["version"]["name"]["zh-hans"]],
            ["name_en", data["version"]["name"]["en"]],
        ]
        + [[key, value] for key, value in data["classification"].items()],
        "levels": [[r["value"], *_row(r["name"])] for r in data["levels"]],
        "depth_levels": [
            [r["value"], *_row(r["name"]), *_row(r["description"])] for r in data["depth_levels"]
        ],
        "domains": [[d["code"], *_row(d["name"]), *_row(d["motto"])] for d in data["domains"]],
        "categories": [
            [d["code"], c["code"], *_row(c["name"]), *_row(c["description"])]
            for d in data["domains"]
            for c in d["categories"]
        ],
        "level_descriptions": [
            [c["code"], int(level), *_row(texts)]
            for d in data["domains"]
            for c in d["categories"]
            for level, texts in c["levels"].items()
        ],
        "industries": [[r["code"], *_row(r["name"])] for r in data["industries"]],
        "grades": [
            [
                g["code"],
                *_row(g["name"]),
                g["depth"],
                g["depth_industries"],
                (g["breadth"] or {}).get("count"),
                (g["breadth"] or {}).get("level"),
                g["validity_months"],
            ]
            for g in data["grades"]
        ],
        "targets": [
            [g["code"], *(g["targets"].get(c) for c in category_codes)] for g in data["grades"]
        ],
    }
    for name, header in SHEETS.items():
        ws = wb.create_sheet(name)
        ws.append(header + (category_codes if name == "targets" else []))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in rows[name]:
            ws.append(row)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.2), 80)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def data_from_workbook(fileobj) -> dict:
    """Read a workbook written by ``workbook_from_data`` back into the document."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ModelDataError([_("无法读取 Excel 文件：%(error)s") % {"error": exc}]) from exc
    missing = [name for name in SHEETS if name not in wb.sheetnames]
    if missing:
        raise ModelDataError([_("缺少工作表：%(sheets)s") % {"sheets": ", ".join(missing)}])
    sheets = {name: _sheet_rows(wb[name]) for name in SHEETS}
    wb.close()
    settings_ = {r["key"]: r["value"] for r in sheets["version"]}
    by_category: dict[str, dict] = {}
    for r in sheets["level_descriptions"]:
        by_category.setdefault(r["category"], {})[str(r["level"])] = _bi(r, "text")
    by_domain: dict[str, list] = {}
    for r in sheets["categories"]:
        by_domain.setdefault(r["domain"], []).append(
            {
                "code": r["code"],
                "name": _bi(r, "name"),
                "description": _bi(r, "description"),
                "levels": by_category.get(r["code"], {}),
            }
        )
    targets = {
        r["grade"]: {k: v for k, v in r.items() if k != "grade" and v is not None}
        for r in sheets["targets"]
    }
    return {
        "format": settings_.get("format"),
        "version": {"name": _bi(settings_, "name")},
        "levels": [{"value": r["value"], "name": _bi(r, "name")} for r in sheets["levels"]],
        "depth_levels": [
            {"value": r["value"], "name": _bi(r, "name"), "description": _bi(r, "description")}
            for r in sheets["depth_levels"]
        ],
        "classification": {key: settings_.get(key) for key in CLASSIFICATION_KEYS},
        "domains": [
            {
                "code": r["code"],
                "name": _bi(r, "name"),
                "motto": _bi(r, "motto"),
                "categories": by_domain.get(r["code"], []),
            }
            for r in sheets["domains"]
        ],
        "industries": [{"code": r["code"], "name": _bi(r, "name")} for r in sheets["industries"]],
        "grades": [
            {
                "code": r["code"],
                "name": _bi(r, "name"),
                "targets": targets.get(r["code"], {}),
                "depth": r["depth"],
                "depth_industries": r["depth_industries"],
                "breadth": None
                if r["breadth_count"] is None
                else {"count": r["breadth_count"], "level": r["breadth_level"]},
                "validity_months": r["validity_months"],
            }
            for r in sheets["grades"]
        ],
    }


def _sheet_rows(ws) -> list[dict]:
    rows = ws.iter_rows(values_only=True)
    header = [str(h) if h is not None else "" for h in next(rows, ())]
    result = []
    for row in rows:
        if all(v is None for v in row):
            continue
        record = dict(zip(header, row, strict=False))
        # A code typed as a number in Excel (1, 1.1) is still a code.
        for key in CODE_COLUMNS & record.keys():
            if record[key] is not None and not isinstance(record[key], str):
                record[key] = str(record[key])
        result.append(record)
    return result


CODE_COLUMNS = {"code", "domain", "category", "grade"}
