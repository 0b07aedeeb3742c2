"""Calibration steps racing on PostgreSQL: one wins, the other is told, nothing slips past a close."""

import pytest

from assessments.calibration import services as calibration
from assessments.calibration.services import CalibrationError
from assessments.models import Assessment, CalibrationAdjustment, CalibrationSession, Rating
from assessments.services import StaleAssessment

from .test_assessment_concurrency import race
from .test_calibration_helpers import ADJUSTED, calibration_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def adjust(world, who, level, revision, session=None):
    return lambda: calibration.adjust_final_level(
        session=session or world["session"],
        assessment=world["manager"],
        category_code=ADJUSTED,
        level=level,
        reason=f"{who} 的校准意见",
        by=world["personas"][who],
        revision=revision,
    )


def test_two_adjustments_from_the_same_page_apply_once(calibration_world):
    revision = Assessment.objects.get(pk=calibration_world["manager"].pk).revision
    outcomes = race(
        adjust(calibration_world, "hr", 5, revision),
        adjust(calibration_world, "supervisor", 1, revision),
    )
    winners = [o for o in outcomes if isinstance(o, CalibrationAdjustment)]
    assert len(winners) == 1 and isinstance(
        next(o for o in outcomes if o not in winners), StaleAssessment
    ), outcomes
    rating = Rating.objects.get(assessment=calibration_world["manager"], category__code=ADJUSTED)
    assert rating.final_level == winners[0].to_level
    assert CalibrationAdjustment.objects.count() == 1


@pytest.mark.parametrize("unit", ["A", "C1"])
def test_no_adjustment_slips_past_a_close(calibration_world, unit):
    personas, world = calibration_world["personas"], calibration_world
    closing = world["session"]
    if unit == "C1":
        closing = calibration.open_session(
            cycle=world["cycle"], unit=world["org"]["C1"], by=personas["hr"]
        )
    revision = Assessment.objects.get(pk=world["manager"].pk).revision
    outcomes = race(
        adjust(world, "supervisor", 5, revision),
        lambda: calibration.close_session(session=closing, by=personas["hr"]),
    )
    closed = CalibrationSession.objects.get(pk=closing.pk)
    assert not closed.is_open
    adjustment = CalibrationAdjustment.objects.first()
    final = Rating.objects.get(assessment=world["manager"], category__code=ADJUSTED).final_level
    if adjustment is None:
        assert isinstance(outcomes[0], CalibrationError) and final == 3, outcomes
    else:
        assert adjustment.at <= closed.closed_at and final == 5, outcomes
