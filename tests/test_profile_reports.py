"""The profile and team reports: numbers equal a plain computation, axes keep the model's order.

The builders at the top (``make_cycle``, ``record``, ``bulk_team``) write completed assessments
directly, the way a finished cycle leaves them; the page and browser tests import them.
"""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from accounts.models import User
from accounts.permissions import Role
from assessments.models import (
    Assessment,
    Cycle,
    IndustryRating,
    LearningResource,
    Rating,
)
from assessments.profiles import reports
from competency.models import Category, Domain
from competency.profiles import Shape, Thresholds, classify
from competency.selectors import grade_profiles
from competency.services import create_draft_from

from .factories import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

CODES = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "4.3"]


# --- builders ----------------------------------------------------------------------------------


def make_cycle(version, name="2025 年度评估", days_ago=0, status=Cycle.Status.CLOSED) -> Cycle:
    opened = timezone.now() - timedelta(days=days_ago)
    return Cycle.objects.create(
        name=name,
        model_version=version,
        status=status,
        self_deadline=date(2025, 11, 15),
        review_deadline=date(2025, 11, 30),
        opened_at=opened,
        closed_at=opened if status == Cycle.Status.CLOSED else None,
    )


def _levels(value, codes=CODES) -> dict:
    return value if isinstance(value, dict) else dict.fromkeys(codes, value)


def record(
    cycle, person, finals, *, selfs=None, supervisor=None, depths=None, unit=None, grade=None
):
    """A completed assessment with the given final (and self/supervisor) levels and depths."""
    version = cycle.model_version
    finals = _levels(finals)
    selfs = _levels(selfs if selfs is not None else finals)
    supervisor = _levels(supervisor if supervisor is not None else finals)
    depths = depths if depths is not None else {"finance": 4}
    result = classify(finals, depths.values(), Thresholds.of(version))
    assessment = Assessment.objects.create(
        cycle=cycle,
        person=person,
        org_unit=unit or person.org_unit,
        target_grade=person.job_grade if grade is None else grade,
        status=Assessment.Status.COMPLETED,
        classification=result.shape,
        completed_at=timezone.now(),
    )
    categories = {c.code: c for c in version.categories.all()}
    Rating.objects.bulk_create(
        Rating(
            assessment=assessment,
            category=categories[code],
            self_level=selfs.get(code),
            supervisor_level=supervisor.get(code),
            final_level=level,
        )
        for code, level in finals.items()
    )
    industries = {i.code: i for i in version.industries.all()}
    IndustryRating.objects.bulk_create(
        IndustryRating(
            assessment=assessment,
            industry=industries[code],
            self_depth=depth,
            supervisor_depth=depth,
            final_depth=depth,
        )
        for code, depth in depths.items()
    )
    return assessment


def bulk_team(cycle, unit, n, *, grade="G2", prefix="m", level=None) -> list[User]:
    """``n`` people in ``unit`` with completed assessments, written with bulk_create only."""
    level = level or (lambda i, code: 1 + (i + CODES.index(code)) % 5)
    people = User.objects.bulk_create(
        User(
            username=f"{prefix}{i:04d}",
            display_name=f"成员{prefix}{i:04d}",
            org_unit=unit,
            job_grade=grade,
            password="!",
        )
        for i in range(n)
    )
    version = cycle.model_version
    thresholds = Thresholds.of(version)
    finals = [{code: level(i, code) for code in CODES} for i in range(n)]
    assessments = Assessment.objects.bulk_create(
        Assessment(
            cycle=cycle,
            person=p,
            org_unit=unit,
            target_grade=grade,
            status=Assessment.Status.COMPLETED,
            classification=classify(finals[i], [i % 6], thresholds).shape,
        )
        for i, p in enumerate(people)
    )
    categories = list(version.categories.all())
    Rating.objects.bulk_create(
        Rating(
            assessment=a,
            category=c,
            self_level=finals[i][c.code],
            supervisor_level=finals[i][c.code],
            final_level=finals[i][c.code],
        )
        for i, a in enumerate(assessments)
        for c in categories
    )
    finance = version.industries.get(code="finance")
    IndustryRating.objects.bulk_create(
        IndustryRating(assessment=a, industry=finance, final_depth=i % 6 or None)
        for i, a in enumerate(assessments)
    )
    return people


def resource(code, level, language="zh-hans", title=None, **extra) -> LearningResource:
    return LearningResource.objects.create(
        title_zh=title or f"{code} 课程 L{level} {language}",
        title_en=f"{code} course L{level} {language}",
        category_code=code,
        target_level=level,
        language=language,
        course_code=extra.pop("course_code", f"C-{code}-{level}-{language}"),
        **extra,
    )


# --- axes --------------------------------------------------------------------------------------


def test_axes_follow_the_models_domain_order_never_codes_or_names(model_version):
    draft = create_draft_from(source=model_version, by=None)
    # Put domain 4 first and domain 1 last: the axes must follow the model, not the codes.
    for domain in Domain.objects.filter(version=draft):
        domain.order = 10 - int(domain.code)
        domain.save()
    first = Category.objects.get(version=draft, code="4.3")
    first.order = 0
    first.save()
    axes = reports.axes_of(draft)
    codes = [a.code for a in axes]
    assert codes[:3] == ["4.3", "4.1", "4.2"]
    assert codes[-5:] == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert codes != sorted(codes) and [a.name for a in axes] != sorted(a.name for a in axes)
    assert [a.domain_index for a in axes] == [1] * 3 + [2] * 2 + [3] * 2 + [4] * 5
    assert [d["code"] for d in reports.domains_of(axes)] == ["4", "3", "2", "1"]


def test_default_axes_are_the_twelve_categories_in_model_order(model_version):
    axes = reports.axes_of(model_version)
    assert [a.code for a in axes] == [c.code for c in model_version.categories_in_order()]
    assert [a.code for a in axes] == CODES
    assert axes[0].motto and axes[0].domain_index == 1 and axes[-1].domain_index == 4


def test_grade_profiles_of_many_versions_equal_the_competency_selector(
    model_version, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        profiles = reports.grade_profiles_of([model_version.pk])
    assert profiles[model_version.pk] == grade_profiles(model_version)


@pytest.mark.parametrize(
    ("code", "current", "following"),
    [("G2", "G2", "G3"), ("", None, "G1"), ("G9", None, "G1"), ("G5", "G5", None)],
)
def test_the_next_grade(model_version, code, current, following):
    now, nxt = reports.grade_and_next(grade_profiles(model_version), code)
    assert (now.code if now else None, nxt.code if nxt else None) == (current, following)


# --- one person --------------------------------------------------------------------------------


@pytest.fixture
def two_cycles(model_version, personas):
    """The manager (G2) completed an older and a newer cycle; supervisor levels differ from self."""
    manager = personas["manager"]
    old = make_cycle(model_version, "2024 年度评估", days_ago=400)
    new = make_cycle(model_version, "2025 年度评估", days_ago=30)
    record(old, manager, 2, depths={"finance": 2})
    finals = dict(zip(CODES, [3, 1, 1, 2, 3, 2, 3, 3, 2, 2, 2, 2], strict=True))
    selfs = {**finals, "1.2": 3, "1.3": 1, "2.1": 1}
    record(new, manager, finals, selfs=selfs, depths={"finance": 3, "education": 2})
    return old, new, finals, selfs


def test_profile_numbers_equal_the_recorded_levels(two_cycles, personas):
    old, new, finals, selfs = two_cycles
    profile = reports.person_profile(personas["manager"], language="zh-hans")
    assert [fig.cycle for fig in profile.history] == [old, new]
    rows = profile.rows()
    assert [r["axis"].code for r in rows] == CODES
    assert [r["final"] for r in rows] == [finals[c] for c in CODES]
    assert [r["self"] for r in rows] == [selfs[c] for c in CODES]
    assert [r["difference"] for r in rows] == [selfs[c] - finals[c] for c in CODES]
    assert profile.current_grade.code == "G2" and profile.next_grade.code == "G3"
    assert [r["target"] for r in rows] == [2] * 12
    assert [r["next_target"] for r in rows] == [3] * 7 + [2] * 5
    assert [d["final"] for d in profile.latest.depths] == [3, 2]  # finance before education
    assert profile.latest.classification.shape == Shape.DEVELOPING
    # G2: 2 everywhere → 1.2 and 1.3 are one short each
    assert [fig.total_gap for fig in profile.history] == [0, 2]


def test_the_three_largest_gaps_to_the_next_grade_in_model_order_on_ties(two_cycles, personas):
    profile = reports.person_profile(personas["manager"], language="zh-hans")
    # G3 needs 3 in 1.x and 2.x: 1.2 and 1.3 miss 2, then 1.4 and 2.1 miss 1 (1.4 comes first)
    assert [(g.axis.code, g.actual, g.required, g.gap) for g in profile.gaps] == [
        ("1.2", 1, 3, 2),
        ("1.3", 1, 3, 2),
        ("1.4", 2, 3, 1),
    ]
    assert profile.next_check.missing_lines()


def test_resources_match_code_and_level_in_the_users_language_first(two_cycles, personas):
    wanted_en = resource("1.2", 3, "en")
    wanted_zh = resource("1.2", 4, "zh-hans")
    resource("1.2", 2, "zh-hans")  # below the level needed
    resource("1.2", 5, "en", is_active=False)  # withdrawn
    resource("9.9", 5, "zh-hans")  # another category
    in_1_3 = resource("1.3", 3, "zh-hans", url="https://example.com/it", course_code="")
    profile = reports.person_profile(personas["manager"], language="zh-hans")
    by_code = {g.axis.code: g.resources for g in profile.gaps}
    assert by_code["1.2"] == [wanted_zh, wanted_en]
    assert by_code["1.3"] == [in_1_3] and by_code["1.4"] == []
    english = reports.person_profile(personas["manager"], language="en")
    assert {g.axis.code: g.resources for g in english.gaps}["1.2"] == [wanted_en, wanted_zh]


def test_at_most_three_resources_per_gap(two_cycles, personas):
    for level in (3, 3, 4, 4, 5):
        resource("1.2", level, title=f"资源 {level} {LearningResource.objects.count()}")
    profile = reports.person_profile(personas["manager"], language="zh-hans")
    assert [r.target_level for r in profile.gaps[0].resources] == [3, 3, 4]


def test_profile_reads_a_fixed_number_of_queries(two_cycles, personas, model_version):
    with_two = _count(lambda: reports.person_profile(personas["manager"], language="zh-hans"))
    for n in range(3):
        record(make_cycle(model_version, f"追加 {n}", days_ago=5 - n), personas["manager"], 2)
    with_five = _count(lambda: reports.person_profile(personas["manager"], language="zh-hans"))
    assert with_two == with_five == 7


def _count(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_a_person_without_results_has_an_empty_profile(personas):
    profile = reports.person_profile(personas["outsider"], language="zh-hans")
    assert profile.latest is None and profile.history == [] and profile.gaps == []


def test_only_completed_assessments_count(open_cycle, personas):
    profile = reports.person_profile(personas["manager"], language="zh-hans")
    assert profile.latest is None  # the open cycle's assessment is not finished


def test_industry_names_follow_the_language(two_cycles, personas):
    with translation.override("en"):
        profile = reports.person_profile(personas["manager"], language="en")
    assert [d["name"] for d in profile.latest.depths] == ["Finance", "Education"]


# --- the team ----------------------------------------------------------------------------------


@pytest.fixture
def small_team(model_version, personas, org):
    """Team A (supervisor G4, manager G2, two more G3/none) plus a sub-team, and team B outside."""
    cycle = make_cycle(model_version)
    sub = OrgUnitFactory(code="A1", name_zh="甲队一组", name_en="Team A1", parent=org["A"])
    g3 = UserFactory(username="g3", org_unit=org["A"], job_grade="G3", roles=[Role.MANAGER])
    nograde = UserFactory(username="nograde", org_unit=sub, job_grade="", roles=[Role.MANAGER])
    late = UserFactory(username="late", org_unit=sub, job_grade="G2", roles=[Role.MANAGER])
    personas["supervisor"].job_grade = "G4"
    personas["supervisor"].save()
    record(cycle, personas["supervisor"], 3, depths={"finance": 4, "government": 4})
    record(cycle, personas["manager"], {**dict.fromkeys(CODES, 2), "1.3": 1, "2.1": 1})
    record(cycle, g3, {**dict.fromkeys(CODES, 3), "1.1": 2, "4.3": 1}, depths={"energy": 5})
    record(cycle, nograde, 4, depths={})
    Assessment.objects.create(cycle=cycle, person=late, org_unit=sub, target_grade="G2")
    record(cycle, personas["outsider"], 1)  # team B: never in team A's figures
    return cycle, sub


def _plain_figures(cycle, unit):
    """The straightforward computation: every rating of the unit's completed members, one by one."""
    version = cycle.model_version
    targets = {g.code: g.minimums for g in grade_profiles(version)}
    finals, wanted = defaultdict(list), defaultdict(list)
    totals = {}
    for a in Assessment.objects.filter(
        cycle=cycle, org_unit__path__startswith=unit.path, status=Assessment.Status.COMPLETED
    ):
        mins = targets.get(a.target_grade or a.person.job_grade, {})
        total = short = 0
        for r in a.ratings.select_related("category"):
            finals[r.category.code].append(r.final_level)
            if r.category.code in mins:
                wanted[r.category.code].append((mins[r.category.code], r.final_level))
                total += max(0, mins[r.category.code] - r.final_level)
                short += r.final_level < mins[r.category.code]
        totals[a.person.username] = (total, short)
    return finals, wanted, totals


def test_team_numbers_equal_a_straightforward_computation(small_team, org, hr):
    cycle, sub = small_team
    report = reports.team_report(cycle=cycle, unit=org["A"], user=hr)
    finals, wanted, totals = _plain_figures(cycle, org["A"])
    assert [m["axis"].code for m in report.means] == CODES
    for m in report.means:
        code = m["axis"].code
        assert m["n"] == len(finals[code]) == 4
        assert m["mean"] == round(sum(finals[code]) / len(finals[code]), 2)
        assert m["target"] == round(sum(t for t, _f in wanted[code]) / len(wanted[code]), 2)
        assert m["below"] == sum(1 for t, f in wanted[code] if f < t)
    expected = sorted((-n, -short, u) for u, (n, short) in totals.items() if n)
    assert [(m["total"], m["below"], m["name"]) for m in report.largest_gaps] == [
        (-n, -short, User.objects.get(username=u).display_name) for n, short, u in expected
    ]
    assert len(expected) == 2
    summary = report.summary
    assert (summary["total"], summary["completed"], summary["completion"]) == (5, 4, 80.0)
    shapes = {row["shape"]: row["n"] for row in summary["shapes"]}
    stored = Assessment.objects.filter(
        cycle=cycle, org_unit__path__startswith=org["A"].path, status="completed"
    ).values_list("classification", flat=True)
    assert shapes == {s: list(stored).count(s.value) for s in reports.SHAPES}


def test_team_drill_down_rolls_sub_units_up(small_team, org, hr):
    cycle, sub = small_team
    report = reports.team_report(cycle=cycle, unit=org["A"], user=hr)
    rows = {row["unit"].code if row["unit"] else None: row for row in report.children}
    assert set(rows) == {None, "A1"}
    assert (rows[None]["total"], rows[None]["completed"]) == (3, 3)  # directly in team A
    assert (rows["A1"]["total"], rows["A1"]["completed"], rows["A1"]["completion"]) == (2, 1, 50.0)
    province = reports.team_report(cycle=cycle, unit=org["P"], user=hr)
    cities = {row["unit"].code: row["total"] for row in province.children}
    assert cities == {"C1": 5, "C2": 1} and province.summary["total"] == 6


def test_heatmap_cells_are_final_levels_against_each_members_target(small_team, org, hr):
    cycle, _sub = small_team
    report = reports.team_report(cycle=cycle, unit=org["A"], user=hr)
    rows = {row["person"].username: row for row in report.heatmap}
    assert set(rows) == {"supervisor", "manager", "g3", "nograde"}
    manager = rows["manager"]["cells"]
    assert [c["axis"].code for c in manager] == CODES
    assert (manager[2]["final"], manager[2]["target"], manager[2]["diff"]) == (1, 2, -1)
    assert manager[2]["css"] == "cell-gap-1" and manager[0]["css"] == "cell-met"
    g3 = rows["g3"]["cells"]
    assert (g3[11]["final"], g3[11]["target"], g3[11]["css"]) == (1, 2, "cell-gap-1")
    assert (g3[0]["final"], g3[0]["target"], g3[0]["css"]) == (2, 3, "cell-gap-1")
    assert {c["css"] for c in rows["nograde"]["cells"]} == {"cell-no-target"}
    assert rows["manager"]["total_gap"] == 2 and rows["g3"]["total_gap"] == 2


def test_team_figures_never_include_people_the_user_may_not_see(small_team, org, personas):
    cycle, _sub = small_team
    # The head of team B asks for the province: only team B's people are counted.
    report = reports.team_report(cycle=cycle, unit=org["P"], user=personas["outsider_supervisor"])
    assert report.summary["total"] == 1
    assert [row["person"].username for row in report.heatmap] == ["outsider"]


def test_dashboard_units_follow_the_assessment_scope(org, personas):
    def codes(user):
        return set(reports.dashboard_units(user).values_list("code", flat=True))

    assert codes(personas["hr"]) == {"P", "C1", "C2", "A", "B"}
    assert codes(personas["city_head"]) == {"C1", "A"}
    assert codes(personas["supervisor"]) == {"A"}
    assert codes(personas["manager"]) == set()
    assert codes(personas["admin"]) == set()  # assessments are HR data


@pytest.mark.parametrize("members", [5, 500])
def test_team_report_takes_a_fixed_number_of_queries(
    model_version, org, hr, members, django_assert_max_num_queries
):
    cycle = make_cycle(model_version)
    bulk_team(cycle, org["A"], members)
    cycle = Cycle.objects.select_related("model_version").get(pk=cycle.pk)
    assert hr.role_names  # read once per request, as the view's decorator does
    with django_assert_max_num_queries(10):
        report = reports.team_report(cycle=cycle, unit=org["P"], user=hr)
    assert report.summary["total"] == members
    assert len(report.heatmap) == min(members, reports.HEATMAP_PAGE_SIZE)
    assert report.means[0]["n"] == members
