"""The gap report's arithmetic, set-based: every figure is aggregated by the database.

A run is split into chunks of whole subtrees (``plan_run``); a chunk computes, for the units of
its subtrees, four statements (members, unit summaries, categories, industries), each one
``INSERT … SELECT … ON CONFLICT DO UPDATE`` that aggregates its own members per unit and rolls
the per-unit sums up into every ancestor inside the chunk. The units above the chunks ("upper"
units, whose subtree is too big for one chunk) are computed last from their own members plus the
stored rows of the chunk roots below them — sums and counts are additive, so that is exact.

Python never loops over members or ratings here: it plans over units (a few thousand at most)
and builds SQL. The statements run on PostgreSQL (tuned and measured there) and on SQLite
(the embedded default); the one difference, building a JSON array of levels, is isolated in
``_member_levels_sql``.
"""

# SQL is composed from table names in model metadata and fixed fragments; every value is a bound
# parameter (ids too, as numbered parameters), so string building here carries no user input.
# ruff: noqa: S608

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count

from accounts.models import PATH_SEPARATOR, OrgUnit
from competency.models import Category, Domain, Grade, GradeTarget
from competency.selectors import grade_profiles

from ..models import (
    Assessment,
    GapCategoryStat,
    GapIndustryStat,
    GapMemberRow,
    GapReportRun,
    GapUnitSummary,
    IndustryRating,
    Rating,
)
from ..models.gap_reports import DEPTH_FIELDS, LEVEL_FIELDS, SHAPE_FIELDS

TOP_PRIORITIES = 5
COMPLETED = Assessment.Status.COMPLETED.value

UNIT = OrgUnit._meta.db_table
ASSESSMENT = Assessment._meta.db_table
RATING = Rating._meta.db_table
INDUSTRY_RATING = IndustryRating._meta.db_table
CATEGORY = Category._meta.db_table
DOMAIN = Domain._meta.db_table
GRADE = Grade._meta.db_table
GRADE_TARGET = GradeTarget._meta.db_table


# --- snapshot and plan --------------------------------------------------------------------------


def snapshot(version) -> tuple[list[dict], dict[str, list[int | None]]]:
    """The version's categories in model order and each grade's minimums in that order."""
    categories = list(
        Category.objects.filter(version=version)
        .order_by("domain__order", "order", "pk")
        .values("id", "code", "name_zh", "name_en")
    )
    targets = {
        profile.code: [profile.minimums.get(c["code"]) for c in categories]
        for profile in grade_profiles(version)
    }
    return categories, targets


def path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


@dataclass
class Plan:
    """Chunks of subtree roots (tree order), the units above them, and how many units each has."""

    chunks: list[dict] = field(default_factory=list)
    upper_ids: list[int] = field(default_factory=list)
    units_total: int = 0


def _unit_tree(cycle_id: int):
    """Participants per unit (ONE grouped query) → subtree counts, paths and children of units."""
    own = (
        Assessment.objects.filter(cycle_id=cycle_id, org_unit__isnull=False)
        .order_by()
        .values_list("org_unit__path")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, int] = defaultdict(int)
    paths: dict[int, str] = {}
    children: dict[int | None, set[int]] = defaultdict(set)
    for path, n in own:
        ids = path_ids(path)
        for depth, unit_id in enumerate(ids):
            counts[unit_id] += n
            paths[unit_id] = PATH_SEPARATOR + PATH_SEPARATOR.join(map(str, ids[: depth + 1])) + "/"
            children[ids[depth - 1] if depth else None].add(unit_id)
    return counts, paths, children


def plan_run(cycle_id: int, chunk_members: int) -> Plan:
    """Split the units with participants into chunks of whole subtrees of ≤ ``chunk_members``.

    A unit whose subtree is bigger becomes an "upper" unit, computed after the chunks from its own
    members and the chunk roots below it. Neighbouring small subtrees share a chunk.
    """
    counts, paths, children = _unit_tree(cycle_id)

    def order(unit_id):
        return path_ids(paths[unit_id])

    roots: list[int] = []
    upper: list[int] = []
    stack = sorted(children[None], key=order, reverse=True)
    while stack:
        unit_id = stack.pop()
        if counts[unit_id] <= chunk_members or not children[unit_id]:
            roots.append(unit_id)
        else:
            upper.append(unit_id)
            stack.extend(sorted(children[unit_id], key=order, reverse=True))
    plan = Plan(upper_ids=upper, units_total=len(counts))
    for root in roots:
        units = sum(1 for unit_id in paths if paths[unit_id].startswith(paths[root]))
        last = plan.chunks[-1] if plan.chunks else None
        if last is None or last["members"] + counts[root] > chunk_members:
            last = {"root_ids": [], "units": 0, "members": 0}
            plan.chunks.append(last)
        last["root_ids"].append(root)
        last["units"] += units
        last["members"] += counts[root]
    return plan


# --- the statements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one call computes: the units whose rows it writes, and stored rows it sums up.

    ``root_ids`` (a chunk): every unit in these subtrees, from their own members.
    ``upper_ids`` (the last step): these units, from their own members plus the stored rows of
    ``stored_ids`` (the chunk roots).
    """

    root_ids: tuple[int, ...] = ()
    upper_ids: tuple[int, ...] = ()
    stored_ids: tuple[int, ...] = ()


def _id_list(prefix: str, ids, params: dict) -> str:
    if not ids:
        return "NULL"
    names = []
    for i, value in enumerate(ids):
        params[f"{prefix}{i}"] = int(value)
        names.append(f"%({prefix}{i})s")
    return ", ".join(names)


def _scope_ctes(scope: Scope, params: dict) -> str:
    """scope_units (whose rows are written), closure (part unit → ancestor among scope_units)."""
    if scope.root_ids:
        units = (
            f"SELECT u.id, u.path FROM {UNIT} u JOIN {UNIT} r ON u.path LIKE r.path || '%%' "
            f"WHERE r.id IN ({_id_list('r', scope.root_ids, params)})"
        )
    else:
        units = (
            f"SELECT id, path FROM {UNIT} WHERE id IN ({_id_list('u', scope.upper_ids, params)})"
        )
    stored = _id_list("s", scope.stored_ids, params)
    # The closure climbs parent links (an index lookup per step) from every unit that has a part
    # to every ancestor, keeping the ancestors whose rows this statement writes.
    return f"""
    scope_units AS MATERIALIZED ({units}),
    part_units AS (
        SELECT id, parent_id FROM {UNIT} WHERE id IN (SELECT id FROM scope_units)
        UNION SELECT id, parent_id FROM {UNIT} WHERE id IN ({stored})
    ),
    climb (uid, aid, parent) AS (
        SELECT id, id, parent_id FROM part_units
        UNION ALL
        SELECT c.uid, u.id, u.parent_id FROM climb c JOIN {UNIT} u ON u.id = c.parent
    ),
    closure AS MATERIALIZED (
        SELECT uid, aid FROM climb WHERE aid IN (SELECT id FROM scope_units)
    ),
    members AS MATERIALIZED (
        SELECT a.id AS aid, a.person_id AS pid, a.org_unit_id AS uid, a.status,
               a.classification, g.id AS gid, COALESCE(g.code, '') AS gcode
        FROM {ASSESSMENT} a
        LEFT JOIN {GRADE} g ON g.version_id = %(version)s
             AND g.code = CASE WHEN %(fixed)s = '' THEN a.target_grade ELSE %(fixed)s END
        WHERE a.cycle_id = %(cycle)s AND a.org_unit_id IN (SELECT id FROM scope_units)
    ),
    catpos AS (
        SELECT c.id, ROW_NUMBER() OVER (ORDER BY d."order", c."order", c.id) AS pos
        FROM {CATEGORY} c JOIN {DOMAIN} d ON d.id = c.domain_id
        WHERE c.version_id = %(version)s
    )"""


def _counted(condition: str, value: str = "1") -> str:
    return f"SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)"


def _rollup(table: str, key: str | None, columns: list[str], own_sql: str, stored: str) -> str:
    """own (per unit [and key]) ∪ the stored roots' rows → summed into every ancestor."""
    key_sel = f", {key}" if key else ""
    part_cols = ", ".join(columns)
    sums = ", ".join(f"SUM(p.{c}) AS {c}" for c in columns)
    return f"""
    own AS MATERIALIZED ({own_sql}),
    parts AS MATERIALIZED (
        SELECT uid{", key_id" if key else ""}, {part_cols} FROM own
        UNION ALL
        SELECT org_unit_id{key_sel}, {part_cols} FROM {table}
        WHERE run_id = %(run)s AND org_unit_id IN ({stored})
    ),
    rolled AS (
        SELECT c.aid AS unit_id{", p.key_id" if key else ""}, {sums}
        FROM parts p JOIN closure c ON c.uid = p.uid
        GROUP BY c.aid{", p.key_id" if key else ""}
    )"""


def _upsert(key_cols: list[str], columns: list[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return f"ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {updates}"


SUMMARY_COLUMNS = [
    "headcount",
    "completed",
    "targeted",
    "below_any",
    "shortfall",
    "depth_met",
    *SHAPE_FIELDS.values(),
]
CATEGORY_COLUMNS = [
    "rated",
    "targeted",
    "sum_level",
    "sum_target",
    "sum_gap",
    "sum_shortfall",
    "below",
    *LEVEL_FIELDS,
]
INDUSTRY_COLUMNS = ["rated", "sum_depth", "deep", *DEPTH_FIELDS]
MEMBER_COLUMNS = [
    "person_id",
    "org_unit_id",
    "status",
    "grade",
    "classification",
    "levels",
    "below",
    "shortfall",
    "best_depth",
]


def _member_levels_sql() -> str:
    """A JSON array of the member's final levels in model order (the one vendor difference)."""
    if connection.vendor == "postgresql":
        return "jsonb_agg(r.final_level ORDER BY cp.pos)"
    # SQLite 3.40 has no ORDER BY inside aggregates: an ordered correlated subquery.
    return (
        f"(SELECT json_group_array(x.final_level) FROM (SELECT r2.final_level FROM {RATING} r2 "
        f"JOIN catpos cp2 ON cp2.id = r2.category_id WHERE r2.assessment_id = m.aid "
        f"ORDER BY cp2.pos) x)"
    )


def _members_sql(scope: Scope, params: dict) -> str:
    levels = _member_levels_sql()
    short = "m.status = %(completed)s AND r.final_level < gt.min_level"
    return f"""
    WITH RECURSIVE {_scope_ctes(scope, params)},
    depths AS (
        SELECT ir.assessment_id AS aid, MAX(ir.final_depth) AS best
        FROM {INDUSTRY_RATING} ir JOIN members m ON m.aid = ir.assessment_id
        GROUP BY ir.assessment_id
    )
    INSERT INTO {GapMemberRow._meta.db_table} (run_id, assessment_id, {", ".join(MEMBER_COLUMNS)})
    SELECT %(run)s, m.aid, MAX(m.pid), MAX(m.uid), MAX(m.status), MAX(m.gcode),
           MAX(m.classification), {levels},
           {_counted(short)}, {_counted(short, "gt.min_level - r.final_level")}, MAX(d.best)
    FROM members m
    JOIN {RATING} r ON r.assessment_id = m.aid
    JOIN catpos cp ON cp.id = r.category_id
    LEFT JOIN {GRADE_TARGET} gt ON gt.grade_id = m.gid AND gt.category_id = r.category_id
    LEFT JOIN depths d ON d.aid = m.aid
    WHERE 1 = 1
    GROUP BY m.aid
    {_upsert(["run_id", "assessment_id"], MEMBER_COLUMNS)}"""


def _summary_sql(scope: Scope, params: dict) -> str:
    done = "g.status = %(completed)s"
    shapes = ", ".join(
        _counted(f"{done} AND g.classification = '{shape.value}'") + f" AS {name}"
        for shape, name in SHAPE_FIELDS.items()
    )
    own = f"""
        SELECT g.org_unit_id AS uid, COUNT(*) AS headcount, {_counted(done)} AS completed,
               {_counted(done + " AND g.grade <> ''")} AS targeted,
               {_counted(done + " AND g.below > 0")} AS below_any,
               {_counted(done, "g.shortfall")} AS shortfall,
               {_counted(done + " AND g.best_depth >= %(depth_level)s")} AS depth_met,
               {shapes}
        FROM {GapMemberRow._meta.db_table} g
        WHERE g.run_id = %(run)s AND g.org_unit_id IN (SELECT id FROM scope_units)
        GROUP BY g.org_unit_id"""
    table = GapUnitSummary._meta.db_table
    stored = _id_list("s", scope.stored_ids, params)
    return f"""
    WITH RECURSIVE {_scope_ctes(scope, params)},
    {_rollup(table, None, SUMMARY_COLUMNS, own, stored)}
    INSERT INTO {table} (run_id, org_unit_id, {", ".join(SUMMARY_COLUMNS)})
    SELECT %(run)s, unit_id, {", ".join(SUMMARY_COLUMNS)} FROM rolled WHERE 1 = 1
    {_upsert(["run_id", "org_unit_id"], SUMMARY_COLUMNS)}"""


def _category_sql(scope: Scope, params: dict) -> str:
    short = "r.final_level < gt.min_level"
    levels = ", ".join(f"{_counted(f'r.final_level = {n}')} AS level_{n}" for n in range(1, 6))
    own = f"""
        SELECT m.uid, r.category_id AS key_id, COUNT(*) AS rated,
               COUNT(gt.min_level) AS targeted, SUM(r.final_level) AS sum_level,
               COALESCE(SUM(gt.min_level), 0) AS sum_target,
               COALESCE(SUM(r.final_level - gt.min_level), 0) AS sum_gap,
               {_counted(short, "gt.min_level - r.final_level")} AS sum_shortfall,
               {_counted(short)} AS below, {levels}
        FROM members m
        JOIN {RATING} r ON r.assessment_id = m.aid
        LEFT JOIN {GRADE_TARGET} gt ON gt.grade_id = m.gid AND gt.category_id = r.category_id
        WHERE m.status = %(completed)s AND r.final_level IS NOT NULL
        GROUP BY m.uid, r.category_id"""
    table = GapCategoryStat._meta.db_table
    stored = _id_list("s", scope.stored_ids, params)
    columns = [*CATEGORY_COLUMNS, "priority"]
    # Rank by the mean shortfall per member with a target, then by how many fall short, then in
    # model order; only categories where someone falls short are training priorities.
    return f"""
    WITH RECURSIVE {_scope_ctes(scope, params)},
    {_rollup(table, "category_id", CATEGORY_COLUMNS, own, stored)},
    ranked AS (
        SELECT rolled.*, ROW_NUMBER() OVER (
            PARTITION BY rolled.unit_id
            ORDER BY COALESCE(rolled.sum_shortfall * 1.0 / NULLIF(rolled.targeted, 0), 0) DESC,
                     rolled.below DESC, cp.pos
        ) AS rn
        FROM rolled JOIN catpos cp ON cp.id = rolled.key_id
    )
    INSERT INTO {table} (run_id, org_unit_id, category_id, {", ".join(columns)})
    SELECT %(run)s, unit_id, key_id, {", ".join(CATEGORY_COLUMNS)},
           CASE WHEN sum_shortfall > 0 AND rn <= %(top)s THEN rn END
    FROM ranked WHERE 1 = 1
    {_upsert(["run_id", "org_unit_id", "category_id"], columns)}"""


def _industry_sql(scope: Scope, params: dict) -> str:
    depths = ", ".join(f"{_counted(f'ir.final_depth = {n}')} AS depth_{n}" for n in range(1, 6))
    own = f"""
        SELECT m.uid, ir.industry_id AS key_id, COUNT(*) AS rated,
               SUM(ir.final_depth) AS sum_depth,
               {_counted("ir.final_depth >= %(depth_level)s")} AS deep, {depths}
        FROM members m JOIN {INDUSTRY_RATING} ir ON ir.assessment_id = m.aid
        WHERE m.status = %(completed)s AND ir.final_depth IS NOT NULL
        GROUP BY m.uid, ir.industry_id"""
    table = GapIndustryStat._meta.db_table
    stored = _id_list("s", scope.stored_ids, params)
    return f"""
    WITH RECURSIVE {_scope_ctes(scope, params)},
    {_rollup(table, "industry_id", INDUSTRY_COLUMNS, own, stored)}
    INSERT INTO {table} (run_id, org_unit_id, industry_id, {", ".join(INDUSTRY_COLUMNS)})
    SELECT %(run)s, unit_id, key_id, {", ".join(INDUSTRY_COLUMNS)} FROM rolled WHERE 1 = 1
    {_upsert(["run_id", "org_unit_id", "industry_id"], INDUSTRY_COLUMNS)}"""


STATEMENTS = (_members_sql, _summary_sql, _category_sql, _industry_sql)


def base_params(run: GapReportRun) -> dict:
    fixed = run.target_grade if run.target_rule == GapReportRun.TargetRule.FIXED_GRADE else ""
    return {
        "run": run.pk,
        "cycle": run.cycle_id,
        "version": run.model_version_id,
        "fixed": fixed,
        "depth_level": run.model_version.depth_level,
        "completed": COMPLETED,
        "top": TOP_PRIORITIES,
    }


def write_scope(run: GapReportRun, scope: Scope) -> None:
    """Compute and upsert every row of the scope's units: four statements, whatever the size.

    Members first: the unit summaries are aggregated from the member rows just written.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Short statements over a few thousand members: JIT compilation costs more than it
            # saves, and the per-member sort fits in memory.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '32MB'")
        for build in STATEMENTS:
            params = base_params(run)
            sql = build(scope, params)
            cursor.execute(sql, params)
