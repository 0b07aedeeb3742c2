"""The assessment state machine and cycle workflows, on PostgreSQL."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from assessments.models import Assessment, AssessmentEvent, Cycle, Rating
from assessments.services import (
    IncompleteAssessment,
    RatingInput,
    StaleAssessment,
    WorkflowError,
    add_participants,
    close_cycle,
    return_assessment,
    save_self_assessment,
    submit_self_assessment,
)
from assessments.services import open_cycle as open_cycle_service

from .assessment_helpers import codes, complete, fill_self, review, submit
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def mine(cycle, user):
    return Assessment.objects.get(cycle=cycle, person=user)


def test_opening_creates_one_assessment_per_participant_with_a_rating_per_category(
    open_cycle, personas
):
    people = set(open_cycle.assessments.values_list("person__username", flat=True))
    # managers and supervisors in the province's subtree; HR and admin are not assessed
    assert people == {"manager", "outsider", "supervisor", "outsidersup", "cityhead"}
    assert Rating.objects.filter(assessment__cycle=open_cycle).count() == 5 * 12
    assessment = mine(open_cycle, personas["manager"])
    assert assessment.status == Assessment.Status.NOT_STARTED
    assert assessment.org_unit.code == "A" and assessment.target_grade == "G2"
    assert open_cycle.status == Cycle.Status.OPEN and open_cycle.opened_at


def test_opening_takes_a_fixed_number_of_queries(
    draft_cycle, personas, org, hr, django_assert_max_num_queries
):
    UserFactory.create_batch(40, org_unit=org["B"], roles=["manager"])
    with django_assert_max_num_queries(12):
        created = open_cycle_service(cycle=draft_cycle, by=hr)
    assert created == 45


def test_a_cycle_without_participants_does_not_open(draft_cycle, hr):
    draft_cycle.participant_units.clear()
    with pytest.raises(WorkflowError):
        open_cycle_service(cycle=draft_cycle, by=hr)
    draft_cycle.refresh_from_db()
    assert draft_cycle.status == Cycle.Status.DRAFT


def test_a_person_added_later_gets_their_assessment(open_cycle, org, hr):
    newcomer = UserFactory(org_unit=org["A"], roles=["manager"])
    assert add_participants(cycle=open_cycle, people=[newcomer], by=hr) == 1
    assert mine(open_cycle, newcomer).ratings.count() == 12
    assert add_participants(cycle=open_cycle, people=[newcomer], by=hr) == 0


def test_self_assessment_saves_and_moves_to_in_progress(open_cycle, personas):
    assessment = mine(open_cycle, personas["manager"])
    saved = save_self_assessment(
        assessment=assessment,
        by=personas["manager"],
        revision=0,
        ratings={"1.1": RatingInput(3, "客户档案")},
        comment="总结",
    )
    assert saved.status == Assessment.Status.SELF_IN_PROGRESS and saved.revision == 1
    assert saved.ratings.get(category__code="1.1").self_comment == "客户档案"
    assert saved.self_saved_at is not None


def test_a_stale_page_is_refused_and_overwrites_nothing(open_cycle, personas):
    assessment = mine(open_cycle, personas["manager"])
    save_self_assessment(
        assessment=assessment, by=personas["manager"], revision=0, ratings={"1.1": RatingInput(4)}
    )
    with pytest.raises(StaleAssessment):
        save_self_assessment(
            assessment=assessment,
            by=personas["manager"],
            revision=0,
            ratings={"1.1": RatingInput(1)},
        )
    assert Rating.objects.get(assessment=assessment, category__code="1.1").self_level == 4


def test_submit_says_precisely_what_is_missing(open_cycle, personas):
    assessment = mine(open_cycle, personas["manager"])
    assessment = save_self_assessment(
        assessment=assessment,
        by=personas["manager"],
        revision=0,
        ratings={code: RatingInput(3) for code in codes(assessment) if code != "1.3"},
    )
    with pytest.raises(IncompleteAssessment) as error:
        submit_self_assessment(
            assessment=assessment, by=personas["manager"], revision=assessment.revision
        )
    assert any("IT知识" in m for m in error.value.missing)
    assert any("行业" in m for m in error.value.missing)
    assert len(error.value.missing) == 2
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SELF_IN_PROGRESS
    assert assessment.ratings.filter(self_level=3).count() == 11  # nothing typed was lost


def test_after_submit_the_manager_cannot_edit(open_cycle, personas):
    assessment = submit(mine(open_cycle, personas["manager"]))
    assert assessment.status == Assessment.Status.SUBMITTED
    with pytest.raises(WorkflowError):
        save_self_assessment(
            assessment=assessment,
            by=personas["manager"],
            revision=assessment.revision,
            ratings={"1.1": RatingInput(5)},
        )
    event = assessment.events.get()
    assert (event.action, event.actor) == (
        AssessmentEvent.Action.SELF_SUBMITTED,
        personas["manager"],
    )


def test_only_the_person_edits_their_self_assessment(open_cycle, personas):
    assessment = mine(open_cycle, personas["manager"])
    with pytest.raises(PermissionDenied):
        save_self_assessment(
            assessment=assessment,
            by=personas["supervisor"],
            revision=0,
            ratings={"1.1": RatingInput(5)},
        )


def test_return_needs_a_reason_and_reopens_the_self_assessment(open_cycle, personas):
    assessment = submit(mine(open_cycle, personas["manager"]))
    with pytest.raises(WorkflowError):
        return_assessment(
            assessment=assessment,
            by=personas["supervisor"],
            revision=assessment.revision,
            reason="  ",
        )
    assessment = return_assessment(
        assessment=assessment,
        by=personas["supervisor"],
        revision=assessment.revision,
        reason="请补充佐证",
    )
    assert assessment.status == Assessment.Status.RETURNED
    assert assessment.events.get(action="returned").note == "请补充佐证"
    assessment = fill_self(assessment, level=4)
    assessment = submit_self_assessment(
        assessment=assessment, by=personas["manager"], revision=assessment.revision
    )
    assert assessment.status == Assessment.Status.SUBMITTED


def test_supervisor_rates_only_the_subtree_and_never_themself(open_cycle, personas):
    manager_assessment = submit(mine(open_cycle, personas["manager"]))
    with pytest.raises(PermissionDenied):
        review(manager_assessment, personas["outsider_supervisor"])
    own = submit(mine(open_cycle, personas["supervisor"]))
    with pytest.raises(PermissionDenied):
        review(own, personas["supervisor"])
    # a head's assessment goes to the head above
    review(own, personas["city_head"])


def test_completion_computes_final_levels_and_the_t_shape(open_cycle, personas):
    assessment = submit(mine(open_cycle, personas["manager"]), level=4)
    assessment = complete(assessment, personas["supervisor"], level=3, depth=4)
    assert (
        assessment.status == Assessment.Status.COMPLETED
        and assessment.reviewer == personas["supervisor"]
    )
    assert set(assessment.ratings.values_list("final_level", flat=True)) == {3}
    assert assessment.industry_ratings.get().final_depth == 4
    assert assessment.classification == "t"
    assert assessment.events.filter(action="completed", actor=personas["supervisor"]).exists()


def test_a_difference_of_two_levels_needs_a_comment(open_cycle, personas):
    from assessments.services import complete_assessment

    assessment = submit(mine(open_cycle, personas["manager"]), level=5)
    assessment = review(assessment, personas["supervisor"], level=3)
    with pytest.raises(IncompleteAssessment) as error:
        complete_assessment(
            assessment=assessment, by=personas["supervisor"], revision=assessment.revision
        )
    assert len(error.value.missing) == 12 and "评语" in error.value.missing[0]
    assessment = review(assessment, personas["supervisor"], level=3, comment="案例不足")
    complete_assessment(
        assessment=assessment, by=personas["supervisor"], revision=assessment.revision
    )


def test_weighted_final_levels_round_half_up(open_cycle, personas):
    Cycle.objects.filter(pk=open_cycle.pk).update(final_rule="weighted", self_weight=Decimal("0.5"))
    assessment = submit(mine(open_cycle, personas["manager"]), level=4)
    assessment = complete(assessment, personas["supervisor"], level=3, depth=3)
    assert set(assessment.ratings.values_list("final_level", flat=True)) == {4}  # 3.5 → 4
    assert assessment.industry_ratings.get().final_depth == 4  # self 4, supervisor 3


@pytest.mark.parametrize(
    ("rule", "weight", "self_level", "supervisor_level", "final"),
    [
        ("supervisor", "0.30", 5, 2, 2),
        ("weighted", "0.30", 5, 2, 3),  # 0.3*5 + 0.7*2 = 2.9
        ("weighted", "0.50", 2, 3, 3),  # 2.5 → 3
        ("weighted", "0.25", 1, 2, 2),  # 1.75 → 2
        ("weighted", "1.00", 4, 1, 4),
        ("weighted", "0.30", None, 3, 3),
        ("supervisor", "0.30", 3, None, None),
    ],
)
def test_final_level_rule(rule, weight, self_level, supervisor_level, final):
    cycle = Cycle(final_rule=rule, self_weight=Decimal(weight))
    assert cycle.final_level(self_level, supervisor_level) == final


def test_closing_freezes_and_marks_the_unfinished_not_completed(open_cycle, personas, hr):
    done = complete(submit(mine(open_cycle, personas["manager"])), personas["supervisor"])
    submit(mine(open_cycle, personas["outsider"]))
    assert close_cycle(cycle=open_cycle, by=hr) == 4
    statuses = dict(open_cycle.assessments.values_list("person__username", "status"))
    assert statuses["manager"] == "completed" and statuses["outsider"] == "not_completed"
    unfinished = Rating.objects.filter(assessment__cycle=open_cycle).exclude(assessment=done)
    assert not unfinished.filter(final_level__isnull=False).exists()  # never zero: no level at all
    assert AssessmentEvent.objects.filter(action="not_completed", actor=hr).count() == 4
    with pytest.raises(WorkflowError):
        save_self_assessment(
            assessment=mine(open_cycle, personas["outsider"]),
            by=personas["outsider"],
            revision=None,
            ratings={"1.1": RatingInput(1)},
        )


def test_an_open_cycle_cannot_open_again_and_a_closed_one_cannot_close(open_cycle, hr):
    with pytest.raises(WorkflowError):
        open_cycle_service(cycle=open_cycle, by=hr)
    close_cycle(cycle=open_cycle, by=hr)
    with pytest.raises(WorkflowError):
        close_cycle(cycle=open_cycle, by=hr)


def test_a_retried_autosave_whose_answer_was_lost_is_not_stale(open_cycle, personas):
    manager = personas["manager"]
    assessment = mine(open_cycle, manager)
    first = save_self_assessment(
        assessment=assessment,
        by=manager,
        revision=0,
        save_token="t1",
        ratings={"1.1": RatingInput(2)},
    )
    assert first.revision == 1
    # the answer never arrived: the browser retries the same save with what is typed now
    retried = save_self_assessment(
        assessment=assessment,
        by=manager,
        revision=0,
        save_token="t1",
        ratings={"1.1": RatingInput(3)},
    )
    assert retried.revision == 2 and retried.ratings.get(category__code="1.1").self_level == 3
    # anyone else with the old revision is still refused
    with pytest.raises(StaleAssessment):
        save_self_assessment(
            assessment=assessment,
            by=manager,
            revision=0,
            save_token="t2",
            ratings={"1.1": RatingInput(5)},
        )
    with pytest.raises(StaleAssessment):
        save_self_assessment(
            assessment=assessment,
            by=manager,
            revision=1,
            save_token="",
            ratings={"1.1": RatingInput(5)},
        )
    assert mine(open_cycle, manager).ratings.get(category__code="1.1").self_level == 3


def test_an_open_cycle_keeps_its_model_version_whatever_the_path(open_cycle, admin_user):
    from django.core.exceptions import ValidationError

    from competency.services import create_draft_from, publish_version

    newer = publish_version(
        version=create_draft_from(source=open_cycle.model_version, by=admin_user), by=admin_user
    )
    open_cycle.model_version = newer
    with pytest.raises(ValidationError):
        open_cycle.save()
    assert Cycle.objects.get(pk=open_cycle.pk).model_version.number == 1
