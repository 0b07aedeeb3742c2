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
