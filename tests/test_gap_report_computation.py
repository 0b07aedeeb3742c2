"""The stored report equals a plain Python computation, cell by cell, whatever the chunking;
a second computation leaves the same rows; the work is set-based (fixed statement counts)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.gap_reports import computation, services
from assessments.models import (
    Cycle,
    GapCategoryStat,
    GapIndustryStat,
    GapMemberRow,
    GapReportChunk,
    GapReportRun,
    GapUnitSummary,
)
from competency.models import Grade

from . import test_gap_report_fixtures as data

# the shared fixtures, by name
gap_org, gap_cycle = data.gap_org, data.gap_cycle
expected_report = data.expected_report
stored, assert_cells_equal = data.stored, data.assert_cells_equal

pytestmark = pytest.mark.django_db


def run_report(cycle, capture, **kwargs) -> GapReportRun:
    with capture(execute=True):
        run = services.start_gap_report(cycle=cycle, **kwargs)
    run.refresh_from_db()
    assert run.status == GapReportRun.Status.SUCCEEDED, run.error
    return run


@pytest.mark.parametrize("chunk_members", [1, 6, 10_000])
def test_every_cell_equals_the_plain_computation(
    gap_cycle, django_capture_on_commit_callbacks, chunk_members
):
    run = run_report(gap_cycle, django_capture_on_commit_callbacks, chunk_members=chunk_members)
    expected = expected_report(gap_cycle)
    actual = stored(run)
    assert_cells_equal(actual["summary"], expected.summary, "summary")
    assert_cells_equal(actual["categories"], expected.categories, "category")
    assert_cells_equal(actual["industries"], expected.industries, "industry")
    assert_cells_equal(actual["members"], expected.members, "member")
    assert run.units_done == run.units_total == len(expected.summary) == 8
    assert len(expected.categories) == 8 * 12 and len(expected.industries) > 20
    assert any(f["priority"] for f in expected.categories.values())
    assert any(f["below"] for f in expected.members.values())
    assert GapReportChunk.objects.filter(run=run).exclude(status="done").count() == 0
    if chunk_members == 10_000:
        assert run.chunks_total == 1 and run.upper_ids == []
    else:
        assert run.chunks_total > 1 and run.upper_ids  # province (and cities) above the chunks


def test_a_grade_hr_picks_replaces_each_members_own(gap_cycle, django_capture_on_commit_callbacks):
    run = run_report(
        gap_cycle,
        django_capture_on_commit_callbacks,
        target_rule=GapReportRun.TargetRule.FIXED_GRADE,
        target_grade="G4",
        chunk_members=5,
    )
    expected = expected_report(gap_cycle, fixed_grade="G4")
    actual = stored(run)
    assert_cells_equal(actual["categories"], expected.categories, "category")
    assert_cells_equal(actual["summary"], expected.summary, "summary")
    assert {m["grade"] for m in actual["members"].values()} == {"G4"}


def test_the_province_figures_make_sense(gap_cycle, gap_org, django_capture_on_commit_callbacks):
    run = run_report(gap_cycle, django_capture_on_commit_callbacks, chunk_members=4)
    province = GapUnitSummary.objects.get(run=run, org_unit=gap_org["P"])
    assert province.headcount == gap_cycle.assessments.count()
    team_rows = GapUnitSummary.objects.filter(run=run, org_unit__parent=gap_org["C1"])
    c1 = GapUnitSummary.objects.get(run=run, org_unit=gap_org["C1"])
    # a unit covers its subtree: its own people plus its teams'
    assert c1.headcount == sum(t.headcount for t in team_rows) + 1  # + the city head
    stats = GapCategoryStat.objects.filter(run=run, org_unit=gap_org["P"])
    assert all(sum(s.distribution) == s.rated for s in stats)
    ranked = sorted((s for s in stats if s.priority), key=lambda s: s.priority)
    assert [s.priority for s in ranked] == list(range(1, len(ranked) + 1)) and len(ranked) <= 5
    assert all(
        a.mean_shortfall >= b.mean_shortfall for a, b in zip(ranked, ranked[1:], strict=False)
    )
    assert not GapUnitSummary.objects.filter(run=run, org_unit__code="EMPTY").exists()


def test_computing_again_leaves_the_same_rows(gap_cycle, django_capture_on_commit_callbacks):
    run = run_report(gap_cycle, django_capture_on_commit_callbacks, chunk_members=3)
    first = stored(run)
    counts = [
        model.objects.filter(run=run).count()
        for model in (GapUnitSummary, GapCategoryStat, GapIndustryStat, GapMemberRow)
    ]
    # every chunk and the last step written again, straight through the upserts
    for chunk in GapReportChunk.objects.filter(run=run):
        computation.write_scope(run, computation.Scope(root_ids=tuple(chunk.root_ids)))
    roots = [r for c in GapReportChunk.objects.filter(run=run) for r in c.root_ids]
    computation.write_scope(
        run, computation.Scope(upper_ids=tuple(run.upper_ids), stored_ids=tuple(roots))
    )
    assert stored(run) == first
    assert [
        model.objects.filter(run=run).count()
        for model in (GapUnitSummary, GapCategoryStat, GapIndustryStat, GapMemberRow)
    ] == counts
    # a redelivered message changes nothing either
    assert services.compute_chunk(run_id=run.pk, number=1) == "done"
    assert services.finish_run(run_id=run.pk) is False
    run.refresh_from_db()
    assert run.chunks_done == run.chunks_total and run.units_done == run.units_total


def test_a_second_run_gives_the_same_figures(gap_cycle, django_capture_on_commit_callbacks):
    first = run_report(gap_cycle, django_capture_on_commit_callbacks, chunk_members=2)
    second = run_report(gap_cycle, django_capture_on_commit_callbacks, chunk_members=50)
    assert stored(first) == stored(second)


def test_starting_twice_joins_the_active_run(gap_cycle, hr):
    # (no commit callbacks: the first run stays pending, like a queued message)
    first = services.start_gap_report(cycle=gap_cycle, by=hr)
    second = services.start_gap_report(cycle=gap_cycle, by=hr)
    assert first.pk == second.pk and first.status == GapReportRun.Status.PENDING
    other_rule = services.start_gap_report(
        cycle=gap_cycle, by=hr, target_rule=GapReportRun.TargetRule.FIXED_GRADE, target_grade="G3"
    )
    assert other_rule.pk != first.pk


def test_refusals(draft_cycle, gap_cycle, model_version):
    draft = Cycle.objects.create(
        name="草稿",
        model_version=model_version,
        self_deadline=draft_cycle.self_deadline,
        review_deadline=draft_cycle.review_deadline,
    )
    with pytest.raises(services.GapReportError):
        services.start_gap_report(cycle=draft)
    with pytest.raises(services.GapReportError):
        services.start_gap_report(
            cycle=gap_cycle, target_rule=GapReportRun.TargetRule.FIXED_GRADE, target_grade="G9"
        )
    assert Grade.objects.filter(version=model_version, code="G9").count() == 0


def test_a_chunk_is_a_fixed_number_of_statements(gap_cycle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.start_gap_report(cycle=gap_cycle, chunk_members=6)
    assert services.plan_run(run_id=run.pk)
    numbers = list(GapReportChunk.objects.filter(run=run).values_list("number", flat=True))
    sizes = []
    for number in numbers[:-1]:
        with CaptureQueriesContext(connection) as queries:
            assert services.compute_chunk(run_id=run.pk, number=number) == "computed"
        sizes.append(len(queries))
    # claim, run, 4 statements, chunk done, progress (+ savepoint bookkeeping), finish check
    assert len(set(sizes)) == 1, sizes
    with CaptureQueriesContext(connection) as queries:
        services.compute_chunk(run_id=run.pk, number=numbers[-1])
    run.refresh_from_db()
    assert run.status == GapReportRun.Status.SUCCEEDED
    # the last chunk also finishes the run: the upper units are 4 statements more, not per unit
    assert len(queries) <= sizes[0] + 8


def test_planning_keeps_subtrees_whole(gap_cycle, gap_org):
    plan = computation.plan_run(gap_cycle.pk, chunk_members=6)
    roots = [r for chunk in plan.chunks for r in chunk["root_ids"]]
    assert gap_org["P"].pk in plan.upper_ids
    for root in roots:
        assert root not in plan.upper_ids
    # every unit with people is either upper or inside exactly one chunk root's subtree
    from accounts.models import OrgUnit

    paths = dict(OrgUnit.objects.values_list("pk", "path"))
    covered = [u for u in paths if any(paths[u].startswith(paths[r]) for r in roots)]
    assert len(covered) == len(set(covered))
    assert not set(covered) & set(plan.upper_ids)
    assert plan.units_total == len(covered) + len(plan.upper_ids) == 8
    assert all(chunk["members"] <= 6 or len(chunk["root_ids"]) == 1 for chunk in plan.chunks)
