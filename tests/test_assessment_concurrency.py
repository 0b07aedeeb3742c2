"""Two people acting at once on PostgreSQL: one wins, the other is told, nothing is lost."""

import threading

import pytest
from django.db import close_old_connections

from assessments.models import Assessment, AssessmentEvent
from assessments.services import (
    RatingInput,
    StaleAssessment,
    WorkflowError,
    complete_assessment,
    return_assessment,
    save_self_assessment,
)

from .assessment_helpers import review, submit

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions):
    """Run the actions at the same moment in threads (each with its own connection)."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            outcomes[i] = action()
        except Exception as exc:  # the loser's error is the outcome under test
            outcomes[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_completions_at_once_complete_once(open_cycle, personas):
    assessment = submit(Assessment.objects.get(cycle=open_cycle, person=personas["manager"]))
    assessment = review(assessment, personas["supervisor"])
    revision = assessment.revision
    outcomes = race(
        lambda: complete_assessment(
            assessment=assessment, by=personas["supervisor"], revision=revision
        ),
        lambda: complete_assessment(
            assessment=assessment, by=personas["city_head"], revision=revision
        ),
    )
    winners = [o for o in outcomes if isinstance(o, Assessment)]
    losers = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], StaleAssessment)
    assert AssessmentEvent.objects.filter(assessment=assessment, action="completed").count() == 1


def test_return_and_complete_at_once_leave_one_consistent_state(open_cycle, personas):
    assessment = submit(Assessment.objects.get(cycle=open_cycle, person=personas["manager"]))
    assessment = review(assessment, personas["supervisor"])
    revision = assessment.revision
    outcomes = race(
        lambda: complete_assessment(
            assessment=assessment, by=personas["supervisor"], revision=revision
        ),
        lambda: return_assessment(
            assessment=assessment, by=personas["city_head"], revision=revision, reason="再看看"
        ),
    )
    assert sum(isinstance(o, Assessment) for o in outcomes) == 1, outcomes
    assessment.refresh_from_db()
    events = set(
        AssessmentEvent.objects.filter(assessment=assessment).values_list("action", flat=True)
    )
    assert events in ({"self_submitted", "completed"}, {"self_submitted", "returned"})
    assert assessment.status in {"completed", "returned"}


def test_two_tabs_saving_at_once_lose_no_acknowledged_update(open_cycle, personas):
    manager = personas["manager"]
    assessment = Assessment.objects.get(cycle=open_cycle, person=manager)
    outcomes = race(
        lambda: save_self_assessment(
            assessment=assessment, by=manager, revision=0, ratings={"1.1": RatingInput(2)}
        ),
        lambda: save_self_assessment(
            assessment=assessment, by=manager, revision=0, ratings={"1.1": RatingInput(5)}
        ),
    )
    saved = [o for o in outcomes if isinstance(o, Assessment)]
    assert len(saved) == 1 and isinstance(
        [o for o in outcomes if o not in saved][0], StaleAssessment
    )
    level = assessment.ratings.get(category__code="1.1").self_level
    # the acknowledged save is the one in the database
    assert level == saved[0].ratings.get(category__code="1.1").self_level
