"""Chart data for the dashboards: plain dicts handed to ``json_script`` and drawn by static/js/charts.js.

Labels are translated here, on the server, so the script holds no user-facing text; the numbers
are the very ones the pages print in the table under each chart.
"""

from django.utils.translation import gettext as _

from .reports import Profile, TeamReport

SCALE_MAX = 5


def _axes(axes) -> list[dict]:
    return [{"code": a.code, "name": a.label, "domain": a.domain_index} for a in axes]


def _grade_label(prefix: str, grade) -> str:
    return f"{prefix}：{grade.code} {grade.name}"


def radar(profile: Profile) -> dict:
    """Breadth: final and self levels, plus the targets of the current and the next grade."""
    latest = profile.latest
    targets = [
        {"key": key, "name": _grade_label(prefix, grade), "values": profile.targets(grade)}
        for key, prefix, grade in (
            ("current", _("当前职级目标"), profile.current_grade),
            ("next", _("下一职级目标"), profile.next_grade),
        )
        if grade is not None
    ]
    return {
        "max": SCALE_MAX,
        "axes": _axes(profile.axes),
        "series": [
            {"name": _("最终等级"), "values": [latest.final.get(a.code) for a in profile.axes]},
            {"name": _("自评"), "values": [latest.self_levels.get(a.code) for a in profile.axes]},
        ],
        "targets": targets,
    }


def depth(profile: Profile) -> dict:
    """Depth: the final depth per industry rated, with the depth T-shape needs (and the next grade's)."""
    latest = profile.latest
    version = latest.cycle.model_version
    marks = [{"name": _("T型要求"), "value": version.depth_level}]
    if profile.next_grade and profile.next_grade.depth:
        marks.append(
            {
                "name": _grade_label(_("下一职级要求"), profile.next_grade),
                "value": profile.next_grade.depth,
            }
        )
    return {
        "max": SCALE_MAX,
        "industries": [d["name"] for d in latest.depths],
        "series": [{"name": _("最终深度"), "values": [d["final"] for d in latest.depths]}],
        "marks": marks,
    }


def history(profile: Profile) -> dict:
    """Growth: per domain, the mean final level in each completed cycle."""
    return {
        "max": SCALE_MAX,
        "cycles": [fig.cycle.name for fig in profile.history],
        "series": [
            {
                "name": f"{m['domain']['code']} {m['domain']['name']}",
                "domain": m["domain"]["index"],
                "values": m["values"],
            }
            for m in profile.domain_means()
        ],
    }


def shapes(report: TeamReport) -> dict:
    """How many completed members fall in each T-shape class."""
    rows = report.summary["shapes"]
    return {
        "labels": [row["label"] for row in rows],
        "series": [{"name": _("人数"), "values": [row["n"] for row in rows]}],
    }


def means(report: TeamReport) -> dict:
    """The unit's mean final level per category against the members' mean target."""
    return {
        "max": SCALE_MAX,
        "axes": _axes(report.axes),
        "series": [
            {"name": _("平均最终等级"), "values": [m["mean"] for m in report.means]},
            {"name": _("平均目标等级"), "values": [m["target"] for m in report.means]},
        ],
    }


def heatmap(report: TeamReport) -> dict:
    """This page's members × categories: [category, member, final level, final − target]."""
    cells = [
        [x, y, cell["final"], cell["diff"]]
        for y, row in enumerate(report.heatmap)
        for x, cell in enumerate(row["cells"])
    ]
    return {
        "max": SCALE_MAX,
        "axes": _axes(report.axes),
        "members": [str(row["person"]) for row in report.heatmap],
        "series": [{"name": _("最终等级"), "cells": cells}],
        "legend": {
            "met": _("达到目标"),
            "gap1": _("差 1 级"),
            "gap2": _("差 2 级及以上"),
            "none": _("无目标"),
        },
    }
