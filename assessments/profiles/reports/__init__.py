"""Report-shaped reads for the profile dashboards: one person's T shape, a unit's picture in a cycle.

Everything returns plain data (dataclasses, dicts, lists) that the pages, their chart JSON and any
later export share. Each read takes a fixed number of queries whatever the number of people,
cycles or units: sums and counts are grouped in the database, one query per table, and only one
page of members is ever loaded row by row.
"""

from .axes import Axis, axes_of, domains_of, grade_and_next, grade_profiles_of
from .person import (
    RESOURCES_PER_GAP,
    TOP_GAPS,
    CycleFigures,
    GapItem,
    Profile,
    development_plan,
    person_profile,
    plan_axes,
)
from .team import (
    HEATMAP_PAGE_SIZE,
    LARGEST_GAP_MEMBERS,
    SHAPES,
    TeamReport,
    dashboard_cycles,
    dashboard_roots,
    dashboard_units,
    team_report,
)

__all__ = [
    "HEATMAP_PAGE_SIZE",
    "LARGEST_GAP_MEMBERS",
    "RESOURCES_PER_GAP",
    "SHAPES",
    "TOP_GAPS",
    "Axis",
    "CycleFigures",
    "GapItem",
    "Profile",
    "TeamReport",
    "axes_of",
    "dashboard_cycles",
    "dashboard_roots",
    "dashboard_units",
    "development_plan",
    "domains_of",
    "grade_and_next",
    "grade_profiles_of",
    "person_profile",
    "plan_axes",
    "team_report",
]
