"""Calibration workflows on PostgreSQL: sessions, adjustments, closing, reopening, the records."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from accounts.audit import AuditRecordImmutable
from assessments.calibration import services as calibration
from assessments.calibration.services import CalibrationError, LevelsLocked
from assessments.models import (
    Assessment,
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    Rating,
)
from assessments.services import StaleAssessment, WorkflowError, complete_assessment
from competency.profiles import Shape, eligibility
from competency.selectors import grade_profiles

from .assessment_helpers import review, submit
from .factories import UserFactory
from .test_calibration_helpers import (  # noqa: F401  (fixtures)
    ADJUSTED,
    calibration_world_fixture,
    mine,
    reason_adjust,
)

pytestmark = pytest.mark.django_db


def final_levels(assessment) -> dict:
    return dict(
        Rating.objects.filter(assessment=assessment).values_list("category__code", "final_level")
    )


def depths(assessment) -> list:
    return list(assessment.industry_ratings.values_list("final_depth", flat=True))


# --- opening sessions ---------------------------------------------------------------------------


def test_hr_and_heads_open_sessions_inside_their_reach(open_cycle, personas, org):
    hr_session = calibration.open_session(cycle=open_cycle, unit=org["P"], by=personas["hr"])
    city = calibration.open_session(cycle=open_cycle, unit=org["C1"], by=personas["city_head"])
    team = calibration.open_session(cycle=open_cycle, unit=org["A"], by=personas["supervisor"])
    assert {hr_session.org_unit, city.org_unit, team.org_unit} == {org["P"], org["C1"], org["A"]}
    assert CalibrationEvent.objects.filter(action=CalibrationEvent.Action.OPENED).count() == 3
    assert team.created_by == personas["supervisor"] and team.is_open


@pytest.mark.parametrize(
    ("who", "unit"),
    [("supervisor", "C1"), ("supervisor", "B"), ("outsider_supervisor", "A"), ("manager", "A")],
)
def test_nobody_opens_a_session_outside_their_subtree(open_cycle, personas, org, who, unit):
    with pytest.raises(PermissionDenied):
        calibration.open_session(cycle=open_cycle, unit=org[unit], by=personas[who])
    assert not CalibrationSession.objects.exists()


def test_one_session_per_cycle_and_unit(open_cycle, personas, org):
    calibration.open_session(cycle=open_cycle, unit=org["A"], by=personas["hr"])
    with pytest.raises(CalibrationError):
        calibration.open_session(cycle=open_cycle, unit=org["A"], by=personas["supervisor"])
    assert CalibrationSession.objects.count() == 1


def test_a_draft_cycle_cannot_be_calibrated(draft_cycle, personas, org):
    with pytest.raises(CalibrationError):
        calibration.open_session(cycle=draft_cycle, unit=org["A"], by=personas["hr"])


# --- adjusting ----------------------------------------------------------------------------------


def test_an_adjustment_changes_the_final_level_and_keeps_the_supervisors(calibration_world):
    manager = calibration_world["manager"]
    adjustment = reason_adjust(
        calibration_world, "hr", level=5, reason="主导专线组网，能与IT部门对话"
    )
    rating = Rating.objects.get(assessment=manager, category__code=ADJUSTED)
    assert rating.final_level == 5
    assert rating.supervisor_level == 3  # the supervisor's original level never changes
    assert (adjustment.from_level, adjustment.to_level, adjustment.supervisor_level) == (3, 5, 3)
    assert adjustment.actor == calibration_world["personas"]["hr"]
    assert adjustment.note == "主导专线组网，能与IT部门对话"
    assert adjustment.at is not None and adjustment.category.code == ADJUSTED
    assert Assessment.objects.get(pk=manager.pk).revision == manager.revision + 1


def test_a_second_adjustment_records_from_the_adjusted_level(calibration_world):
    reason_adjust(calibration_world, "hr", level=5)
    second = reason_adjust(calibration_world, "supervisor", level=4, reason="与同级对比后回调")
    assert (second.from_level, second.to_level, second.supervisor_level) == (5, 4, 3)
    assert list(
        CalibrationAdjustment.objects.order_by("at", "pk").values_list("from_level", "to_level")
    ) == [(3, 5), (5, 4)]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_adjustment_needs_a_reason(calibration_world, reason):
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr", reason=reason)
    assert final_levels(calibration_world["manager"])[ADJUSTED] == 3
    assert not CalibrationAdjustment.objects.exists()


@pytest.mark.parametrize("level", [0, 6, "4", None, True])
def test_an_adjustment_needs_a_level_from_1_to_5(calibration_world, level):
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr", level=level)


def test_the_same_level_is_not_an_adjustment(calibration_world):
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr", level=3)


def test_a_stale_page_changes_nothing(calibration_world):
    manager = calibration_world["manager"]
    with pytest.raises(StaleAssessment):
        calibration.adjust_final_level(
            session=calibration_world["session"],
            assessment=manager,
            category_code=ADJUSTED,
            level=5,
            reason="x",
            by=calibration_world["personas"]["hr"],
            revision=manager.revision - 1,
        )
    assert final_levels(manager)[ADJUSTED] == 3


def test_an_assessment_outside_the_session_is_refused(calibration_world):
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr", assessment=calibration_world["outsider"])
    assert final_levels(calibration_world["outsider"])[ADJUSTED] == 4


def test_an_unfinished_assessment_is_not_calibrated(calibration_world, org):
    colleague = UserFactory(org_unit=org["A"], roles=["manager"])
    from assessments.services import add_participants

    add_participants(
        cycle=calibration_world["cycle"], people=[colleague], by=calibration_world["personas"]["hr"]
    )
    pending = submit(mine(calibration_world["cycle"], colleague))
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr", assessment=pending)


def test_adjusting_reclassifies_the_assessment(calibration_world):
    manager = calibration_world["manager"]
    assert manager.classification == Shape.T  # all 3s, finance depth 4
    adjustment = reason_adjust(calibration_world, "hr", level=1, reason="基础薄弱，需重新学习")
    manager.refresh_from_db()
    assert manager.classification == Shape.SPECIALIST  # a category below 2: breadth not met
    assert adjustment.details["classification"] == {"from": Shape.T, "to": Shape.SPECIALIST}


def test_adjusted_levels_flow_into_certification_eligibility(calibration_world, model_version):
    manager = calibration_world["manager"]
    grades = grade_profiles(model_version)
    before = eligibility(grades, final_levels(manager), depths(manager)).eligible
    reason_adjust(calibration_world, "hr", code="1.1", level=1, reason="信息技能未达基础")
    after = eligibility(grades, final_levels(manager), depths(manager)).eligible
    assert before.code == "G4" and after.code == "G1"


# --- who may adjust -----------------------------------------------------------------------------


def test_a_head_adjusts_the_people_they_rate(calibration_world):
    reason_adjust(calibration_world, "supervisor", level=4)
    reason_adjust(calibration_world, "city_head", level=2, reason="上级复核")
    assert final_levels(calibration_world["manager"])[ADJUSTED] == 2


def test_a_head_never_adjusts_their_own_assessment(calibration_world):
    with pytest.raises(PermissionDenied):
        reason_adjust(calibration_world, "supervisor", assessment=calibration_world["head"])
    assert final_levels(calibration_world["head"])[ADJUSTED] == 3
    # the head above does
    reason_adjust(calibration_world, "city_head", assessment=calibration_world["head"], level=4)
    assert final_levels(calibration_world["head"])[ADJUSTED] == 4


def test_a_peer_head_of_the_same_unit_does_not_adjust(calibration_world, org):
    peer = UserFactory(username="peerhead", org_unit=org["A"], roles=["supervisor"])
    org["A"].heads.add(peer)
    calibration_world["personas"]["peer"] = peer
    with pytest.raises(PermissionDenied):
        reason_adjust(calibration_world, "peer", assessment=calibration_world["head"])


@pytest.mark.parametrize("who", ["outsider_supervisor", "manager", "outsider", "admin"])
def test_others_cannot_adjust(calibration_world, who):
    with pytest.raises(PermissionDenied):
        reason_adjust(calibration_world, who)
    assert not CalibrationAdjustment.objects.exists()


def test_nobody_adjusts_their_own_assessment_not_even_hr(calibration_world):
    hr = calibration_world["personas"]["hr"]
    assert not calibration.may_adjust(hr, calibration_world["session"], Assessment(person=hr))
    assert calibration.may_adjust(hr, calibration_world["session"], calibration_world["manager"])


# --- the records --------------------------------------------------------------------------------


def test_adjustments_and_events_are_never_edited(calibration_world):
    adjustment = reason_adjust(calibration_world, "hr")
    adjustment.note = "改写"
    with pytest.raises(AuditRecordImmutable):
        adjustment.save()
    with pytest.raises(AuditRecordImmutable):
        adjustment.delete()
    with pytest.raises(AuditRecordImmutable):
        CalibrationAdjustment.objects.update(to_level=1)
    with pytest.raises(AuditRecordImmutable):
        CalibrationEvent.objects.all().delete()


def test_the_database_refuses_an_adjustment_without_reason(calibration_world):
    rating = Rating.objects.get(assessment=calibration_world["manager"], category__code=ADJUSTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationAdjustment.objects.create(
            session=calibration_world["session"],
            assessment=calibration_world["manager"],
            rating=rating,
            category=rating.category,
            from_level=3,
            to_level=4,
            note="",
        )


# --- the guide ----------------------------------------------------------------------------------


def test_hr_sets_and_clears_the_guide(calibration_world):
    session, hr = calibration_world["session"], calibration_world["personas"]["hr"]
    calibration.set_guide(session=session, by=hr, shares={1: 5, 2: 15, 3: 50, 4: 20, 5: 10})
    session.refresh_from_db()
    assert session.guide == {1: 5, 2: 15, 3: 50, 4: 20, 5: 10} and session.guide_top_share == 30
    calibration.set_guide(session=session, by=hr, shares=None)
    session.refresh_from_db()
    assert session.guide is None
    assert session.events.filter(action=CalibrationEvent.Action.GUIDE_SET).count() == 2


@pytest.mark.parametrize(
    "shares",
    [{1: 10, 2: 10, 3: 10, 4: 10, 5: 10}, {1: 50, 2: 50}, {1: -10, 2: 10, 3: 50, 4: 30, 5: 20}],
)
def test_the_guide_sums_to_100(calibration_world, shares):
    with pytest.raises(CalibrationError):
        calibration.set_guide(
            session=calibration_world["session"],
            by=calibration_world["personas"]["hr"],
            shares=shares,
        )


def test_only_hr_sets_the_guide(calibration_world):
    with pytest.raises(PermissionDenied):
        calibration.set_guide(
            session=calibration_world["session"],
            by=calibration_world["personas"]["supervisor"],
            shares={1: 0, 2: 0, 3: 100, 4: 0, 5: 0},
        )


def test_the_database_refuses_a_guide_not_summing_to_100(calibration_world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationSession.objects.filter(pk=calibration_world["session"].pk).update(
            guide_level_1=10, guide_level_2=10, guide_level_3=10, guide_level_4=10, guide_level_5=10
        )


# --- closing and reopening ----------------------------------------------------------------------


def close(world, who="hr"):
    calibration.close_session(session=world["session"], by=world["personas"][who], note="完成")


def test_closing_locks_the_final_levels(calibration_world):
    close(calibration_world, "supervisor")
    session = CalibrationSession.objects.get(pk=calibration_world["session"].pk)
    assert session.status == CalibrationSession.Status.CLOSED and session.closed_at
    with pytest.raises(CalibrationError):
        reason_adjust(calibration_world, "hr")
    with pytest.raises(LevelsLocked):
        calibration.ensure_levels_unlocked(calibration_world["manager"])
    # team B is not covered
    calibration.ensure_levels_unlocked(calibration_world["outsider"])
    assert session.events.filter(action=CalibrationEvent.Action.CLOSED).get().note == "完成"


def test_only_heads_of_the_unit_and_hr_close(calibration_world):
    with pytest.raises(PermissionDenied):
        close(calibration_world, "outsider_supervisor")
    assert CalibrationSession.objects.get(pk=calibration_world["session"].pk).is_open


def test_a_closed_session_above_locks_the_levels_in_a_session_below(calibration_world, org):
    personas = calibration_world["personas"]
    city = calibration.open_session(
        cycle=calibration_world["cycle"], unit=org["C1"], by=personas["hr"]
    )
    calibration.close_session(session=city, by=personas["city_head"])
    with pytest.raises(LevelsLocked):
        reason_adjust(calibration_world, "supervisor", level=4)
    assert final_levels(calibration_world["manager"])[ADJUSTED] == 3


def test_reopening_is_hrs_with_a_reason(calibration_world):
    close(calibration_world)
    session, personas = calibration_world["session"], calibration_world["personas"]
    with pytest.raises(PermissionDenied):
        calibration.reopen_session(session=session, by=personas["supervisor"], reason="漏了一人")
    with pytest.raises(CalibrationError):
        calibration.reopen_session(session=session, by=personas["hr"], reason=" ")
    calibration.reopen_session(session=session, by=personas["hr"], reason="补充校准一人")
    session.refresh_from_db()
    assert session.is_open and session.closed_at is None
    event = session.events.get(action=CalibrationEvent.Action.REOPENED)
    assert (event.actor, event.note) == (personas["hr"], "补充校准一人")
    reason_adjust(calibration_world, "hr")  # adjustments work again


def test_an_open_session_is_not_reopened(calibration_world):
    with pytest.raises(CalibrationError):
        calibration.reopen_session(
            session=calibration_world["session"],
            by=calibration_world["personas"]["hr"],
            reason="x",
        )


def test_levels_locked_is_a_workflow_error_the_pages_already_show():
    assert issubclass(LevelsLocked, WorkflowError)


def test_complete_assessment_refuses_while_a_closed_session_covers_it(calibration_world, org):
    """assessments.services.complete_assessment must call ensure_levels_unlocked after _lock."""
    from assessments.services import add_participants

    personas = calibration_world["personas"]
    colleague = UserFactory(org_unit=org["A"], roles=["manager"])
    add_participants(cycle=calibration_world["cycle"], people=[colleague], by=personas["hr"])
    pending = review(submit(mine(calibration_world["cycle"], colleague)), personas["supervisor"])
    close(calibration_world)
    with pytest.raises(LevelsLocked):
        complete_assessment(
            assessment=pending, by=personas["supervisor"], revision=pending.revision
        )
    assert not Rating.objects.filter(assessment=pending, final_level__isnull=False).exists()
