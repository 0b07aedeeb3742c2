"""The T-shape classification: thresholds, edge cases, the explanation in words."""

import pytest
from django.utils import translation

from competency.profiles import Shape, Thresholds, classify

CODES = ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "4.3"]
DEFAULT = Thresholds()


def levels(*values):
    return dict(zip(CODES, values, strict=True))


BROAD = levels(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2)  # 10 at 3, none below 2


@pytest.mark.parametrize(
    ("profile", "depths", "shape"),
    [
        (BROAD, [4], Shape.T),
        (BROAD, [4, 5], Shape.PI),
        (BROAD, [3, 3], Shape.GENERALIST),
        (BROAD, [], Shape.GENERALIST),
        (levels(3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2), [5], Shape.SPECIALIST),  # only 9 at 3
        (levels(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1), [4], Shape.SPECIALIST),  # one below the floor
        (levels(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2), [2], Shape.DEVELOPING),
        (
            levels(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, None),
            [5],
            Shape.SPECIALIST,
        ),  # missing is never met
    ],
)
def test_classification(profile, depths, shape):
    assert classify(profile, depths, DEFAULT).shape == shape


def test_thresholds_come_from_the_version_and_change_the_answer():
    strict = Thresholds(
        breadth_level=4, breadth_count=12, breadth_floor=4, depth_level=5, pi_industries=3
    )
    assert classify(BROAD, [4], strict).shape == Shape.DEVELOPING
    lenient = Thresholds(
        breadth_level=2, breadth_count=12, breadth_floor=1, depth_level=3, pi_industries=2
    )
    assert classify(BROAD, [3, 3], lenient).shape == Shape.PI


def test_explanation_in_both_languages():
    result = classify(levels(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2), [3], DEFAULT)
    assert (result.categories_at_level, result.lowest_level, result.best_depth) == (11, 2, 3)
    with translation.override("zh-hans"):
        text = result.explanation()
        assert "广度达标" in text and "11 / 12" in text and "深度未达标" in text and "3 / 4" in text
    with translation.override("en"):
        text = result.explanation()
        assert "breadth met" in text.lower() and "11" in text and "depth not met" in text.lower()


# --- grades ----------------------------------------------------------------------------------------

from competency.profiles import GradeProfile, check_grade, eligibility  # noqa: E402

G = dict.fromkeys(CODES, 1)
GRADES = [
    GradeProfile("G1", "一级", 1, dict.fromkeys(CODES, 1)),
    GradeProfile("G2", "二级", 2, dict.fromkeys(CODES, 2)),
    GradeProfile("G3", "三级", 3, {c: (3 if c[0] in "12" else 2) for c in CODES}, depth=2),
    GradeProfile(
        "G4",
        "四级",
        4,
        {c: (3 if c[0] in "12" else 2) for c in CODES},
        depth=4,
        breadth_count=10,
        breadth_level=3,
    ),
    GradeProfile(
        "G5", "顾问", 5, dict.fromkeys(CODES, 3), depth=5, breadth_count=8, breadth_level=4
    ),
]


def test_highest_met_grade_and_what_is_missing_for_the_next():
    profile = levels(3, 3, 2, 3, 3, 3, 3, 2, 2, 2, 2, 2)
    result = eligibility(GRADES, profile, [2])
    assert result.eligible.code == "G2"
    check = result.next_check
    assert check.grade.code == "G3" and not check.met
    assert [(s.category, s.required, s.actual, s.missing) for s in check.shortfalls] == [
        ("1.3", 3, 2, 1)
    ]
    assert check.depth_met


def test_breadth_and_depth_rules_of_the_t_grade():
    profile = levels(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2)  # 8 at 3
    check = check_grade(GRADES[3], profile, [3])
    assert check.breadth_missing == 2 and not check.depth_met and not check.shortfalls
    with translation.override("zh-hans"):
        lines = check.missing_lines()
    assert len(lines) == 2 and "2 个类别" in lines[0] and "4" in lines[1]
    assert check_grade(GRADES[3], BROAD | {"1.1": 3}, [4]).met


def test_nobody_eligible_and_the_top_grade():
    assert eligibility(GRADES, levels(*([None] * 12)), []).eligible is None
    top = eligibility(GRADES, levels(*([5] * 12)), [5])
    assert top.eligible.code == "G5" and top.next_check is None
    first = eligibility(GRADES, levels(*([None] * 12)), []).next_check
    assert first.grade.code == "G1" and len(first.shortfalls) == 12


def test_grade_profiles_of_the_default_model(model_version, django_assert_max_num_queries):
    from competency.selectors import grade_profiles

    with django_assert_max_num_queries(2):
        profiles = grade_profiles(model_version)
    assert [p.code for p in profiles] == ["G1", "G2", "G3", "G4", "G5"]
    assert profiles[3].breadth_count == 10 and profiles[4].depth == 5
    assert list(profiles[2].minimums) == CODES
