"""What changed between two model exchange documents (``tshape-model/1``), as plain data.

``diff_documents(old, new)`` is pure: it compares two documents from ``export_version`` and
returns a list of JSON-serialisable change entries, in model order. Parts are matched by their
code (proficiency and depth levels by value), so a renamed category is "renamed", not
"removed + added". ``display_rows`` turns entries into translated rows for a page.

An entry is ``{"part", "change", "code", "name", "field", "old", "new"}``:

* ``part``: version, classification, level, depth_level, domain, category, industry, grade;
* ``change``: added, removed, renamed, redescribed, moved, reordered, level_text, target,
  depth, breadth, validity, threshold;
* ``code``: the part's code (a level's value as text, a classification key);
* ``name``: the part's bilingual name (from the new document when it is there);
* ``field``: what inside the part changed (motto, description, a level "3", a category code);
* ``old`` / ``new``: the values before and after (``None`` for added / removed).
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

Entry = dict[str, Any]

PART_LABELS = {
    "version": gettext_lazy("版本"),
    "classification": gettext_lazy("画像分类阈值"),
    "level": gettext_lazy("熟练等级"),
    "depth_level": gettext_lazy("行业深度等级"),
    "domain": gettext_lazy("能力领域"),
    "category": gettext_lazy("能力类别"),
    "industry": gettext_lazy("行业"),
    "grade": gettext_lazy("认证等级"),
}
CHANGE_LABELS = {
    "added": gettext_lazy("新增"),
    "removed": gettext_lazy("删除"),
    "renamed": gettext_lazy("改名"),
    "redescribed": gettext_lazy("说明修改"),
    "moved": gettext_lazy("移到其他领域"),
    "reordered": gettext_lazy("顺序调整"),
    "level_text": gettext_lazy("等级行为描述修改"),
    "target": gettext_lazy("目标等级修改"),
    "depth": gettext_lazy("行业深度要求修改"),
    "breadth": gettext_lazy("广度要求修改"),
    "validity": gettext_lazy("证书有效期修改"),
    "threshold": gettext_lazy("阈值修改"),
}
FIELD_LABELS = {
    "motto": gettext_lazy("定位"),
    "description": gettext_lazy("说明"),
    "depth": gettext_lazy("要求行业深度"),
    "depth_industries": gettext_lazy("达到深度的行业数"),
    "breadth_level": gettext_lazy("广度达标等级"),
    "breadth_count": gettext_lazy("广度达标类别数"),
    "breadth_floor": gettext_lazy("广度最低等级"),
    "depth_level": gettext_lazy("深度达标等级"),
    "pi_industries": gettext_lazy("π型所需行业数"),
}


def _entry(part, change, code=None, name=None, field=None, old=None, new=None) -> Entry:
    return {
        "part": part,
        "change": change,
        "code": code,
        "name": name,
        "field": field,
        "old": old,
        "new": new,
    }


def diff_documents(old: dict, new: dict) -> list[Entry]:
    """Every difference between two exchange documents, ``old`` → ``new``, in model order."""
    changes: list[Entry] = []
    if old["version"]["name"] != new["version"]["name"]:
        changes.append(
            _entry(
                "version",
                "renamed",
                name=new["version"]["name"],
                old=old["version"]["name"],
                new=new["version"]["name"],
            )
        )
    for key, value in new["classification"].items():
        before = old["classification"].get(key)
        if before != value:
            changes.append(_entry("classification", "threshold", code=key, old=before, new=value))
    changes += _diff_scale("level", old["levels"], new["levels"], ("name",))
    changes += _diff_scale(
        "depth_level", old["depth_levels"], new["depth_levels"], ("name", "description")
    )
    changes += _diff_list("domain", old["domains"], new["domains"], texts=("motto",))
    changes += _diff_categories(old["domains"], new["domains"])
    changes += _diff_list("industry", old["industries"], new["industries"])
    changes += _diff_grades(old, new)
    return changes


def _diff_scale(part: str, old: list, new: list, fields: tuple) -> list[Entry]:
    before = {row["value"]: row for row in old}
    changes = []
    for row in new:
        was = before.get(row["value"])
        for field in fields:
            if was is not None and was[field] != row[field]:
                change = "renamed" if field == "name" else "redescribed"
                changes.append(
                    _entry(
                        part,
                        change,
                        code=str(row["value"]),
                        name=row["name"],
                        field=None if field == "name" else field,
                        old=was[field],
                        new=row[field],
                    )
                )
    return changes


def _diff_list(part: str, old: list, new: list, texts: tuple = ()) -> list[Entry]:
    """Added, removed, renamed, re-described (``texts``) and reordered items matched by code."""
    before = {row["code"]: row for row in old}
    after = {row["code"]: row for row in new}
    changes = [
        _entry(part, "added", code=row["code"], name=row["name"], new=row["name"])
        for row in new
        if row["code"] not in before
    ]
    changes += [
        _entry(part, "removed", code=row["code"], name=row["name"], old=row["name"])
        for row in old
        if row["code"] not in after
    ]
    for row in new:
        was = before.get(row["code"])
        if was is None:
            continue
        if was["name"] != row["name"]:
            changes.append(
                _entry(part, "renamed", row["code"], row["name"], old=was["name"], new=row["name"])
            )
        for field in texts:
            if was.get(field) != row.get(field):
                changes.append(
                    _entry(
                        part,
                        "redescribed",
                        row["code"],
                        row["name"],
                        field,
                        was.get(field),
                        row.get(field),
                    )
                )
    changes += _reordered(part, None, [r["code"] for r in old], [r["code"] for r in new])
    return changes


def _reordered(part: str, code, old_codes: list, new_codes: list) -> list[Entry]:
    common = set(old_codes) & set(new_codes)
    old_order = [c for c in old_codes if c in common]
    new_order = [c for c in new_codes if c in common]
    if old_order == new_order:
        return []
    return [_entry(part, "reordered", code=code, old=old_order, new=new_order)]


def _categories(domains: list) -> dict[str, tuple[str, dict]]:
    return {c["code"]: (d["code"], c) for d in domains for c in d["categories"]}


def _diff_categories(old_domains: list, new_domains: list) -> list[Entry]:
    before, after = _categories(old_domains), _categories(new_domains)
    old_flat = [c for _d, c in before.values()]
    new_flat = [c for _d, c in after.values()]
    changes = [
        e
        for e in _diff_list("category", old_flat, new_flat, texts=("description",))
        if e["change"] != "reordered"
    ]
    for code, (domain, category) in after.items():
        if code not in before:
            continue
        was_domain, was = before[code]
        if was_domain != domain:
            changes.append(
                _entry("category", "moved", code, category["name"], old=was_domain, new=domain)
            )
        for level, texts in category["levels"].items():
            if was["levels"].get(level) != texts:
                changes.append(
                    _entry(
                        "category",
                        "level_text",
                        code,
                        category["name"],
                        level,
                        was["levels"].get(level),
                        texts,
                    )
                )
    old_by_domain = {d["code"]: [c["code"] for c in d["categories"]] for d in old_domains}
    for domain in new_domains:
        staying = [c["code"] for c in domain["categories"]]
        changes += _reordered(
            "category", domain["code"], old_by_domain.get(domain["code"], []), staying
        )
    return changes


def _diff_grades(old: dict, new: dict) -> list[Entry]:
    changes = _diff_list("grade", old["grades"], new["grades"])
    before = {g["code"]: g for g in old["grades"]}
    category_codes = list(_categories(new["domains"]))
    for grade in new["grades"]:
        was = before.get(grade["code"])
        if was is None:
            continue
        code, name = grade["code"], grade["name"]
        for category in category_codes:
            level, was_level = grade["targets"].get(category), was["targets"].get(category)
            if level != was_level:
                changes.append(_entry("grade", "target", code, name, category, was_level, level))
        for field in ("depth", "depth_industries"):
            if was[field] != grade[field]:
                changes.append(
                    _entry("grade", "depth", code, name, field, was[field], grade[field])
                )
        if was["breadth"] != grade["breadth"]:
            changes.append(
                _entry("grade", "breadth", code, name, None, was["breadth"], grade["breadth"])
            )
        if was["validity_months"] != grade["validity_months"]:
            changes.append(
                _entry(
                    "grade",
                    "validity",
                    code,
                    name,
                    None,
                    was["validity_months"],
                    grade["validity_months"],
                )
            )
    return changes


def summarize(changes: list[Entry]) -> dict[str, int]:
    """How many changes of each kind (for a one-line summary)."""
    counts: dict[str, int] = {}
    for entry in changes:
        counts[entry["change"]] = counts.get(entry["change"], 0) + 1
    return counts


# --- display --------------------------------------------------------------------------------------


def _text(value, lang: str) -> str:
    """One value in words for the page (bilingual texts show the active language first)."""
    if value is None:
        return "—"
    if isinstance(value, dict) and set(value) == {"zh-hans", "en"}:
        first, second = (
            (value["en"], value["zh-hans"])
            if lang == "en"
            else (
                value["zh-hans"],
                value["en"],
            )
        )
        return first if first == second else f"{first}\n{second}"
    if isinstance(value, dict) and set(value) == {"count", "level"}:
        return _("至少 %(count)s 类 ≥ %(level)s") % value
    if isinstance(value, list):
        return _("、").join(str(v) for v in value)
    return str(value)


def _subject(entry: Entry, lang: str) -> str:
    code = entry["code"] or ""
    if entry["part"] == "classification":
        return str(FIELD_LABELS.get(code, code))
    if entry["part"] in ("level", "depth_level"):
        return _("等级 %(value)s") % {"value": code}
    if entry["change"] == "reordered" and entry["part"] == "category" and code:
        return _("领域 %(code)s 内的类别") % {"code": code}
    name = entry.get("name")
    label = (name.get("en") if lang == "en" else name.get("zh-hans")) if name else ""
    return f"{code} {label}".strip()


def _detail(entry: Entry) -> str:
    field = entry.get("field")
    if field is None:
        return ""
    if entry["change"] == "level_text":
        return _("等级 %(level)s") % {"level": field}
    if entry["change"] == "target":
        return _("类别 %(code)s") % {"code": field}
    return str(FIELD_LABELS.get(field, field))


def display_rows(changes: list[Entry], lang: str = "zh-hans") -> list[dict[str, str]]:
    """The entries as rows of words for a table: part, subject, change, detail, old, new."""
    return [
        {
            "part": str(PART_LABELS.get(e["part"], e["part"])),
            "subject": _subject(e, lang),
            "change": str(CHANGE_LABELS.get(e["change"], e["change"])),
            "kind": e["change"],
            "detail": _detail(e),
            "old": _text(e["old"], lang),
            "new": _text(e["new"], lang),
        }
        for e in changes
    ]
