"""The benchmark's yardsticks: the whole report as ONE hand-written PostgreSQL statement (the
floor the batch run is measured against) and the naive way (an ORM loop per member).

Neither is used by the application; both produce the same figures as a run, which the benchmark
checks before it reports any timing.
"""

# ruff: noqa: S608  (table names from model metadata; every value is a bound parameter)

from collections import defaultdict

from django.db import connection, transaction

from accounts.models import OrgUnit
from competency.models import Grade

from ..models import Assessment, GapReportRun
from ..models.gap_reports import SHAPE_FIELDS
from .computation import (
    ASSESSMENT,
    CATEGORY,
    COMPLETED,
    DOMAIN,
    GRADE,
    GRADE_TARGET,
    INDUSTRY_RATING,
    RATING,
    TOP_PRIORITIES,
    UNIT,
    path_ids,
)

FLOOR_SQL = f"""
WITH members AS MATERIALIZED (
    SELECT a.id AS aid, a.person_id AS pid, a.org_unit_id AS uid, a.status, a.classification,
           g.id AS gid, COALESCE(g.code, '') AS gcode
    FROM {ASSESSMENT} a
    LEFT JOIN {GRADE} g ON g.version_id = %(version)s
         AND g.code = CASE WHEN %(fixed)s = '' THEN a.target_grade ELSE %(fixed)s END
    WHERE a.cycle_id = %(cycle)s AND a.org_unit_id IS NOT NULL
),
catpos AS (
    SELECT c.id, ROW_NUMBER() OVER (ORDER BY d."order", c."order", c.id) AS pos
    FROM {CATEGORY} c JOIN {DOMAIN} d ON d.id = c.domain_id WHERE c.version_id = %(version)s
),
depths AS (
    SELECT ir.assessment_id AS aid, MAX(ir.final_depth) AS best
    FROM {INDUSTRY_RATING} ir JOIN members m ON m.aid = ir.assessment_id
    GROUP BY ir.assessment_id
),
member_rows AS MATERIALIZED (
    SELECT m.aid, MAX(m.pid) AS pid, MAX(m.uid) AS uid, MAX(m.status) AS status,
           MAX(m.gcode) AS gcode, MAX(m.classification) AS classification,
           jsonb_agg(r.final_level ORDER BY cp.pos) AS levels,
           SUM(CASE WHEN m.status = %(completed)s AND r.final_level < gt.min_level THEN 1 ELSE 0 END)
               AS below,
           SUM(CASE WHEN m.status = %(completed)s AND r.final_level < gt.min_level
                    THEN gt.min_level - r.final_level ELSE 0 END) AS shortfall,
           MAX(d.best) AS best
    FROM members m
    JOIN {RATING} r ON r.assessment_id = m.aid
    JOIN catpos cp ON cp.id = r.category_id
    LEFT JOIN {GRADE_TARGET} gt ON gt.grade_id = m.gid AND gt.category_id = r.category_id
    LEFT JOIN depths d ON d.aid = m.aid
    GROUP BY m.aid
),
closure AS MATERIALIZED (
    SELECT u.id AS uid, unnest(string_to_array(trim(both '/' from u.path), '/'))::bigint AS aid
    FROM {UNIT} u WHERE u.id IN (SELECT DISTINCT uid FROM members)
),
cat_own AS (
    SELECT m.uid, r.category_id AS cid, COUNT(*) AS rated, COUNT(gt.min_level) AS targeted,
           SUM(r.final_level) AS sum_level, COALESCE(SUM(gt.min_level), 0) AS sum_target,
           COALESCE(SUM(r.final_level - gt.min_level), 0) AS sum_gap,
           SUM(CASE WHEN r.final_level < gt.min_level THEN gt.min_level - r.final_level ELSE 0 END)
               AS sum_shortfall,
           SUM(CASE WHEN r.final_level < gt.min_level THEN 1 ELSE 0 END) AS below,
           SUM(CASE WHEN r.final_level = 1 THEN 1 ELSE 0 END) AS l1,
           SUM(CASE WHEN r.final_level = 2 THEN 1 ELSE 0 END) AS l2,
           SUM(CASE WHEN r.final_level = 3 THEN 1 ELSE 0 END) AS l3,
           SUM(CASE WHEN r.final_level = 4 THEN 1 ELSE 0 END) AS l4,
           SUM(CASE WHEN r.final_level = 5 THEN 1 ELSE 0 END) AS l5
    FROM members m
    JOIN {RATING} r ON r.assessment_id = m.aid
    LEFT JOIN {GRADE_TARGET} gt ON gt.grade_id = m.gid AND gt.category_id = r.category_id
    WHERE m.status = %(completed)s AND r.final_level IS NOT NULL
    GROUP BY m.uid, r.category_id
),
cat AS (
    SELECT c.aid AS unit_id, o.cid, SUM(rated) AS rated, SUM(targeted) AS targeted,
           SUM(sum_level) AS sum_level, SUM(sum_target) AS sum_target, SUM(sum_gap) AS sum_gap,
           SUM(sum_shortfall) AS sum_shortfall, SUM(below) AS below, SUM(l1) AS l1,
           SUM(l2) AS l2, SUM(l3) AS l3, SUM(l4) AS l4, SUM(l5) AS l5
    FROM cat_own o JOIN closure c ON c.uid = o.uid GROUP BY c.aid, o.cid
),
cat_ranked AS (
    SELECT cat.*, ROW_NUMBER() OVER (
        PARTITION BY cat.unit_id
        ORDER BY COALESCE(cat.sum_shortfall * 1.0 / NULLIF(cat.targeted, 0), 0) DESC,
                 cat.below DESC, cp.pos) AS rn
    FROM cat JOIN catpos cp ON cp.id = cat.cid
),
sum_own AS (
    SELECT uid, COUNT(*) AS headcount,
           SUM(CASE WHEN status = %(completed)s THEN 1 ELSE 0 END) AS completed,
           SUM(CASE WHEN status = %(completed)s AND gcode <> '' THEN 1 ELSE 0 END) AS targeted,
           SUM(CASE WHEN status = %(completed)s AND below > 0 THEN 1 ELSE 0 END) AS below_any,
           SUM(CASE WHEN status = %(completed)s THEN shortfall ELSE 0 END) AS shortfall,
           SUM(CASE WHEN status = %(completed)s AND best >= %(depth_level)s THEN 1 ELSE 0 END)
               AS depth_met,
           {", ".join(f"SUM(CASE WHEN status = %(completed)s AND classification = '{s.value}' THEN 1 ELSE 0 END) AS {name}" for s, name in SHAPE_FIELDS.items())}
    FROM member_rows GROUP BY uid
),
summary AS (
    SELECT c.aid AS unit_id, SUM(headcount) AS headcount, SUM(completed) AS completed,
           SUM(targeted) AS targeted, SUM(below_any) AS below_any, SUM(shortfall) AS shortfall,
           SUM(depth_met) AS depth_met,
           {", ".join(f"SUM({name}) AS {name}" for name in SHAPE_FIELDS.values())}
    FROM sum_own o JOIN closure c ON c.uid = o.uid GROUP BY c.aid
),
ind_own AS (
    SELECT m.uid, ir.industry_id AS iid, COUNT(*) AS rated, SUM(ir.final_depth) AS sum_depth,
           SUM(CASE WHEN ir.final_depth >= %(depth_level)s THEN 1 ELSE 0 END) AS deep,
           SUM(CASE WHEN ir.final_depth = 1 THEN 1 ELSE 0 END) AS d1,
           SUM(CASE WHEN ir.final_depth = 2 THEN 1 ELSE 0 END) AS d2,
           SUM(CASE WHEN ir.final_depth = 3 THEN 1 ELSE 0 END) AS d3,
           SUM(CASE WHEN ir.final_depth = 4 THEN 1 ELSE 0 END) AS d4,
           SUM(CASE WHEN ir.final_depth = 5 THEN 1 ELSE 0 END) AS d5
    FROM members m JOIN {INDUSTRY_RATING} ir ON ir.assessment_id = m.aid
    WHERE m.status = %(completed)s AND ir.final_depth IS NOT NULL
    GROUP BY m.uid, ir.industry_id
),
ind AS (
    SELECT c.aid AS unit_id, o.iid, SUM(rated) AS rated, SUM(sum_depth) AS sum_depth,
           SUM(deep) AS deep, SUM(d1) AS d1, SUM(d2) AS d2, SUM(d3) AS d3, SUM(d4) AS d4,
           SUM(d5) AS d5
    FROM ind_own o JOIN closure c ON c.uid = o.uid GROUP BY c.aid, o.iid
)
SELECT 'summary', unit_id, NULL::bigint, headcount, completed, targeted, below_any, shortfall,
       depth_met, {", ".join(SHAPE_FIELDS.values())}, NULL::bigint, NULL::bigint,
       NULL, NULL, NULL, NULL::jsonb
FROM summary
UNION ALL
SELECT 'category', unit_id, cid, rated, targeted, sum_level, sum_target, sum_gap, sum_shortfall,
       below, l1, l2, l3, l4, l5, CASE WHEN sum_shortfall > 0 AND rn <= %(top)s THEN rn END,
       NULL, NULL, NULL, NULL::jsonb
FROM cat_ranked
UNION ALL
SELECT 'industry', unit_id, iid, rated, sum_depth, deep, d1, d2, d3, d4, d5, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL::jsonb
FROM ind
UNION ALL
SELECT 'member', uid, aid, pid, below, shortfall, best, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, status, gcode, classification, levels
FROM member_rows
"""


def floor_params(run: GapReportRun) -> dict:
    from .computation import base_params

    return base_params(run)


def sql_floor(run: GapReportRun) -> list[tuple]:
    """Every figure of the run as rows of one statement, fetched (PostgreSQL only).

    Tuned like the run's own statements (no JIT, the same work_mem), in a read-only transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '32MB'")
        cursor.execute(FLOOR_SQL, floor_params(run))
        return cursor.fetchall()


def naive_report(run: GapReportRun) -> dict:
    """The toy way: an ORM query per member for ratings and depths, added up in Python.

    Returns {unit id: (headcount, completed, {category id: [rated, sum level, below]})} for the
    cross-check; the point is the time it takes.
    """
    version = run.model_version
    minimums: dict[str, dict[int, int]] = defaultdict(dict)
    for grade in Grade.objects.filter(version=version).prefetch_related("targets"):
        for target in grade.targets.all():
            minimums[grade.code][target.category_id] = target.min_level
    fixed = run.target_grade if run.target_rule == GapReportRun.TargetRule.FIXED_GRADE else ""
    units: dict[int, list] = defaultdict(lambda: [0, 0, defaultdict(lambda: [0, 0, 0])])
    paths = dict(OrgUnit.objects.values_list("pk", "path"))
    for assessment in Assessment.objects.filter(cycle=run.cycle_id, org_unit__isnull=False):
        ancestors = path_ids(paths[assessment.org_unit_id])
        completed = assessment.status == COMPLETED
        targets = minimums.get(fixed or assessment.target_grade, {})
        ratings = list(assessment.ratings.all()) if completed else []
        list(assessment.industry_ratings.all())  # a toy reads the depths per member too
        for unit_id in ancestors:
            tally = units[unit_id]
            tally[0] += 1
            tally[1] += 1 if completed else 0
            for rating in ratings:
                if rating.final_level is None:
                    continue
                cell = tally[2][rating.category_id]
                cell[0] += 1
                cell[1] += rating.final_level
                target = targets.get(rating.category_id)
                cell[2] += 1 if target is not None and rating.final_level < target else 0
    return units


def floor_summary(rows: list[tuple]) -> dict:
    """The floor's rows in the naive report's shape, for the cross-check."""
    units: dict[int, list] = defaultdict(lambda: [0, 0, {}])
    for row in rows:
        if row[0] == "summary":
            units[row[1]][0], units[row[1]][1] = row[3], row[4]
        elif row[0] == "category":
            units[row[1]][2][row[2]] = [row[3], row[5], row[9]]
    return units


__all__ = ["FLOOR_SQL", "TOP_PRIORITIES", "naive_report", "sql_floor", "floor_summary"]
