"""Rater statistics and distributions: equal to a plain Python computation, the outlier rule,
the guide warning, and fixed query counts (5 vs 60 assessments)."""

from collections import defaultdict
from statistics import fmean, pstdev

import pytest
from django.urls import reverse

from accounts.models import OrgUnit
from assessments.calibration import services as calibration
from assessments.calibration import statistics as stats
from assessments.calibration.statistics import LENIENT, STRICT, RaterRow, RaterTable
from assessments.models import Assessment, Rating

from .factories import OrgUnitFactory, UserFactory
from .test_calibration_helpers import (  # noqa: F401  (fixtures)
    build_unit,
    calibration_world_fixture,
    force_complete,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def region(org):
    """A city C3 under the province, for units built in bulk."""
    return OrgUnitFactory(code="C3", name_zh="丙市分公司", kind=OrgUnit.Kind.CITY, parent=org["P"])


def session_for(cycle, unit, hr):
    return calibration.open_session(cycle=cycle, unit=unit, by=hr)


# --- the numbers against Python -----------------------------------------------------------------


def python_figures(cycle, unit):
    """The table computed the long way round, from every rating row of the unit."""
    rows = Rating.objects.filter(
        assessment__cycle=cycle,
        assessment__status=Assessment.Status.COMPLETED,
        assessment__org_unit__path__startswith=unit.path,
    ).values_list(
        "assessment_id", "assessment__reviewer_id", "self_level", "supervisor_level", "final_level"
    )
    by_rater = defaultdict(list)
    for row in rows:
        by_rater[row[1]].append(row)
    every_final = [r[4] for r in rows]
    unit_mean = fmean(every_final)
    figures = {}
    for rater, ratings in by_rater.items():
        finals = [r[4] for r in ratings]
        diffs = [r[3] - r[2] for r in ratings if r[2] is not None and r[3] is not None]
        figures[rater] = {
            "assessments": len({r[0] for r in ratings}),
            "ratings": len(finals),
            "mean_final": fmean(finals),
            "diff_to_unit": fmean(finals) - unit_mean,
            "mean_supervisor_minus_self": fmean(diffs) if diffs else None,
            "top_share": sum(1 for f in finals if f >= 4) / len(finals),
            "levels": [finals.count(v) for v in range(1, 6)],
        }
    return unit_mean, figures


def test_rater_figures_equal_a_python_computation(draft_cycle, personas, region, hr):
    heads = build_unit(draft_cycle, region, hr, teams=3, per_team=4, seed=11)
    # one self level missing: the supervisor-minus-self mean skips it
    first = Rating.objects.filter(assessment__reviewer=heads[0]).order_by("pk").first()
    Rating.objects.filter(pk=first.pk).update(self_level=None)
    session = session_for(draft_cycle, region, hr)
    table = stats.rater_statistics(session)
    unit_mean, expected = python_figures(draft_cycle, region)
    assert table.unit_mean == pytest.approx(unit_mean)
    assert table.unit_assessments == 12 and table.unit_ratings == 12 * 12
    assert {row.reviewer_id for row in table.rows} == set(expected) == {h.pk for h in heads}
    for row in table.rows:
        want = expected[row.reviewer_id]
        assert row.assessments == want["assessments"] == 4
        assert row.ratings == want["ratings"]
        assert row.mean_final == pytest.approx(want["mean_final"])
        assert row.diff_to_unit == pytest.approx(want["diff_to_unit"])
        assert row.mean_supervisor_minus_self == pytest.approx(want["mean_supervisor_minus_self"])
        assert row.top_share == pytest.approx(want["top_share"])
        assert row.levels == want["levels"]
    assert table.unit_levels == [sum(e["levels"][i] for e in expected.values()) for i in range(5)]


def test_category_distribution_equals_a_python_computation(draft_cycle, personas, region, hr):
    build_unit(draft_cycle, region, hr, teams=2, per_team=3, seed=5)
    session = session_for(draft_cycle, region, hr)
    rows = stats.category_distribution(session)
    finals = defaultdict(list)
    for code, level in Rating.objects.filter(
        assessment__cycle=draft_cycle,
        assessment__status=Assessment.Status.COMPLETED,
        assessment__org_unit__path__startswith=region.path,
    ).values_list("category__code", "final_level"):
        finals[code].append(level)
    assert [r.code for r in rows] == list(
        draft_cycle.model_version.categories_in_order().values_list("code", flat=True)
    )
    for row in rows:
        values = finals[row.code]
        assert row.total == len(values) == 6
        assert row.mean == pytest.approx(fmean(values))
        assert row.levels == [values.count(v) for v in range(1, 6)]
        assert row.top_share == pytest.approx(sum(v >= 4 for v in values) / len(values))


def test_only_completed_assessments_of_the_subtree_count(calibration_world_stats):
    session, world = calibration_world_stats
    table = stats.rater_statistics(session)
    # team A: the manager (by supervisor) and the supervisor (by city head); not team B
    assert sorted(row.name for row in table.rows) == sorted(
        [str(world["personas"]["supervisor"]), str(world["personas"]["city_head"])]
    )
    assert table.unit_assessments == 2


@pytest.fixture
def calibration_world_stats(calibration_world):
    return calibration_world["session"], calibration_world


# --- the outlier rule ---------------------------------------------------------------------------


def row(pk, mean, assessments=6):
    return RaterRow(
        reviewer_id=pk,
        name=str(pk),
        employee_no="",
        assessments=assessments,
        ratings=assessments * 12,
        final_sum=round(mean * assessments * 12),
        mean_final=mean,
        mean_supervisor_minus_self=0.0,
        top=0,
        levels=[0] * 5,
    )


def table_of(*rows, unit_mean):
    table = RaterTable(rows=list(rows), unit_mean=unit_mean)
    for r in table.rows:
        r.diff_to_unit = r.mean_final - unit_mean
    stats.apply_outlier_rule(table)
    return table


def test_the_rule_flags_lenient_and_strict_raters_beyond_one_sd():
    table = table_of(
        row(1, 4.2), row(2, 3.0), row(3, 3.1), row(4, 2.9), row(5, 1.9), unit_mean=3.02
    )
    sd = pstdev([4.2, 3.0, 3.1, 2.9, 1.9])
    assert table.spread == pytest.approx(sd) and table.threshold == pytest.approx(sd)
    assert {r.reviewer_id: r.flag for r in table.rows} == {
        1: LENIENT,
        2: "",
        3: "",
        4: "",
        5: STRICT,
    }


def test_raters_with_fewer_than_five_assessments_are_neither_flagged_nor_counted():
    table = table_of(
        row(1, 4.2), row(2, 3.0), row(3, 2.9), row(4, 5.0, assessments=4), unit_mean=3.3
    )
    rater4 = next(r for r in table.rows if r.reviewer_id == 4)
    assert not rater4.eligible and rater4.flag == ""
    assert table.eligible_raters == 3
    assert table.spread == pytest.approx(pstdev([4.2, 3.0, 2.9]))


def test_fewer_than_three_eligible_raters_flag_nobody():
    table = table_of(row(1, 4.9), row(2, 1.5), row(3, 3.0, assessments=2), unit_mean=3.2)
    assert table.threshold is None and not table.flagged


def test_raters_who_agree_closely_are_not_flagged_for_noise():
    # SD ≈ 0.08, so the 0.25 minimum gap decides: a 0.2 difference is noise
    table = table_of(row(1, 3.2), row(2, 3.0), row(3, 3.05), row(4, 3.0), unit_mean=3.0)
    assert table.threshold == pytest.approx(stats.MIN_GAP)
    assert not table.flagged


def test_a_difference_of_exactly_the_threshold_is_not_flagged():
    # the spread is tiny, so the threshold is the 0.25 minimum gap; "more than" is strict
    table = table_of(row(1, 3.25), row(2, 3.0), row(3, 3.0), row(4, 3.0), unit_mean=3.0)
    assert table.threshold == stats.MIN_GAP and not table.flagged
    table = table_of(row(1, 3.26), row(2, 3.0), row(3, 3.0), row(4, 3.0), unit_mean=3.0)
    assert [r.reviewer_id for r in table.flagged] == [1]


def test_a_lenient_rater_is_flagged_in_a_real_unit(draft_cycle, personas, region, hr):
    heads = []
    for number in range(4):
        team = OrgUnitFactory(code=f"L{number}", parent=region)
        head = UserFactory(org_unit=team, roles=["supervisor"])
        team.heads.add(head)
        heads.append(head)
        UserFactory.create_batch(5, org_unit=team, roles=["manager"])
    from assessments.services import open_cycle

    open_cycle(cycle=draft_cycle, by=hr)
    force_complete(draft_cycle, region, heads, seed=3, bias={heads[0]: 2})
    table = stats.rater_statistics(session_for(draft_cycle, region, hr))
    flags = {r.reviewer_id: r.flag for r in table.rows}
    assert flags[heads[0].pk] == LENIENT
    assert [r.reviewer_id for r in table.flagged] == [heads[0].pk]


# --- the guide ----------------------------------------------------------------------------------


def test_a_warning_where_the_top_levels_exceed_the_guide(calibration_world):
    session, hr = calibration_world["session"], calibration_world["personas"]["hr"]
    manager = calibration_world["manager"]
    Rating.objects.filter(assessment=manager, category__code="1.1").update(final_level=5)
    # 1.1: one 5 and one 3 → 50% top; everything else 0% top
    calibration.set_guide(session=session, by=hr, shares={1: 0, 2: 10, 3: 50, 4: 30, 5: 10})
    session.refresh_from_db()
    rows = {r.code: r for r in stats.category_distribution(session)}
    assert rows["1.1"].top_share == pytest.approx(0.5) and rows["1.1"].top_warning
    assert rows["1.2"].top_share == 0 and not rows["1.2"].top_warning
    assert rows["1.1"].guide_top_share == pytest.approx(0.4)


def test_exactly_the_guide_share_is_no_warning(calibration_world):
    session, hr = calibration_world["session"], calibration_world["personas"]["hr"]
    Rating.objects.filter(assessment=calibration_world["manager"], category__code="1.1").update(
        final_level=4
    )
    calibration.set_guide(session=session, by=hr, shares={1: 0, 2: 0, 3: 50, 4: 50, 5: 0})
    session.refresh_from_db()
    rows = {r.code: r for r in stats.category_distribution(session)}
    assert rows["1.1"].top_share == pytest.approx(0.5) and not rows["1.1"].top_warning


def test_without_a_guide_there_is_no_warning(calibration_world):
    Rating.objects.filter(assessment=calibration_world["manager"]).update(final_level=5)
    rows = stats.category_distribution(calibration_world["session"])
    assert rows and not any(r.top_warning for r in rows)


# --- query counts -------------------------------------------------------------------------------


def test_each_table_is_one_query(draft_cycle, personas, region, hr, django_assert_num_queries):
    build_unit(draft_cycle, region, hr, teams=3, per_team=5)
    session = session_for(draft_cycle, region, hr)
    session = type(session).objects.select_related("org_unit").get(pk=session.pk)
    with django_assert_num_queries(1):
        stats.rater_statistics(session)
    with django_assert_num_queries(1):
        stats.category_distribution(session)
    assessments = list(stats.grid_assessments(session)[:10])
    with django_assert_num_queries(1):
        stats.grid_ratings(assessments)


DETAIL_QUERIES = 15


def test_the_session_page_takes_the_same_queries_for_5_and_60_assessments(
    client, draft_cycle, personas, region, hr, django_assert_max_num_queries
):
    heads = build_unit(draft_cycle, region, hr, teams=1, per_team=5)
    session = session_for(draft_cycle, region, hr)
    client.force_login(hr)
    url = reverse("calibration:session-detail", args=[session.pk])
    client.get(url)
    with django_assert_max_num_queries(DETAIL_QUERIES) as small:
        response = client.get(url)
    assert response.context["raters"].unit_assessments == 5
    for number in range(1, 4):
        team = OrgUnitFactory(code=f"X{number}", parent=region)
        head = UserFactory(org_unit=team, roles=["supervisor"])
        team.heads.add(head)
        heads.append(head)
        UserFactory.create_batch(18 if number < 3 else 19, org_unit=team, roles=["manager"])
    from assessments.services import create_missing_assessments

    create_missing_assessments(draft_cycle)
    force_complete(draft_cycle, region, heads)
    with django_assert_max_num_queries(DETAIL_QUERIES) as large:
        response = client.get(url)
    assert response.context["raters"].unit_assessments == 60
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_export_takes_the_same_queries_for_5_and_60_assessments(
    client, draft_cycle, personas, region, hr, django_assert_max_num_queries
):
    heads = build_unit(draft_cycle, region, hr, teams=1, per_team=5)
    session = session_for(draft_cycle, region, hr)
    client.force_login(hr)
    url = reverse("calibration:session-export", args=[session.pk])
    with django_assert_max_num_queries(12) as small:
        b"".join(client.get(url).streaming_content)
    team = OrgUnitFactory(code="Y1", parent=region)
    head = UserFactory(org_unit=team, roles=["supervisor"])
    team.heads.add(head)
    UserFactory.create_batch(55, org_unit=team, roles=["manager"])
    from assessments.services import create_missing_assessments

    create_missing_assessments(draft_cycle)
    force_complete(draft_cycle, region, [*heads, head])
    with django_assert_max_num_queries(12) as large:
        b"".join(client.get(url).streaming_content)
    assert len(large.captured_queries) == len(small.captured_queries)
