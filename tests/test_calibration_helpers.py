"""Shared set-up for the calibration tests (fixtures and builders; this module holds no tests).

``calibration_world``: the open cycle with the manager's assessment completed by ``supervisor``
(head of team A), the outsider's by ``outsider_supervisor`` and the supervisor's own by
``city_head``; plus HR's session over team A.
"""

import random

import pytest
from django.utils import timezone

from accounts.models import OrgUnit
from assessments.calibration import services as calibration
from assessments.models import Assessment, Rating
from assessments.services import (
    RatingInput,
    complete_assessment,
    save_review,
)
from assessments.services import open_cycle as open_cycle_service

from .assessment_helpers import codes, submit
from .factories import OrgUnitFactory, UserFactory

ADJUSTED = "1.3"


def mine(cycle, user) -> Assessment:
    return Assessment.objects.get(cycle=cycle, person=user)


def complete_with(assessment, supervisor, levels=3, *, self_level=3, depth=4) -> Assessment:
    """Self-assess at ``self_level``, review with ``levels`` (int or code → level), complete."""
    assessment = submit(assessment, self_level)
    wanted = levels if isinstance(levels, dict) else dict.fromkeys(codes(assessment), levels)
    assessment = save_review(
        assessment=assessment,
        by=supervisor,
        revision=assessment.revision,
        ratings={code: RatingInput(level, "依据项目表现") for code, level in wanted.items()},
        depths={"finance": depth},
    )
    return complete_assessment(assessment=assessment, by=supervisor, revision=assessment.revision)


@pytest.fixture(name="calibration_world")
def calibration_world_fixture(open_cycle, personas, org):
    manager = complete_with(mine(open_cycle, personas["manager"]), personas["supervisor"])
    outsider = complete_with(
        mine(open_cycle, personas["outsider"]), personas["outsider_supervisor"], 4
    )
    head = complete_with(mine(open_cycle, personas["supervisor"]), personas["city_head"])
    session = calibration.open_session(cycle=open_cycle, unit=org["A"], by=personas["hr"])
    return {
        "cycle": open_cycle,
        "session": session,
        "manager": manager,
        "outsider": outsider,
        "head": head,
        "personas": personas,
        "org": org,
    }


def reason_adjust(world, who, assessment=None, level=5, code=ADJUSTED, reason="跨部门项目表现突出"):
    assessment = Assessment.objects.get(pk=(assessment or world["manager"]).pk)
    return calibration.adjust_final_level(
        session=world["session"],
        assessment=assessment,
        category_code=code,
        level=level,
        reason=reason,
        by=world["personas"][who],
        revision=assessment.revision,
    )


# --- large units, built fast --------------------------------------------------------------------


def build_unit(draft_cycle, parent, hr, *, teams: int, per_team: int, seed: int = 7):
    """``teams`` teams under ``parent``, each with a head and ``per_team`` managers; the cycle is
    opened and every manager's assessment forced to completed by the team head with random
    levels (set-based, so that 60 assessments cost a handful of statements)."""
    heads = []
    for number in range(teams):
        team = OrgUnitFactory(code=f"T{parent.code}{number}", parent=parent)
        head = UserFactory(org_unit=team, roles=["supervisor"])
        team.heads.add(head)
        heads.append(head)
        UserFactory.create_batch(per_team, org_unit=team, roles=["manager"])
    if draft_cycle.status == draft_cycle.Status.DRAFT:
        open_cycle_service(cycle=draft_cycle, by=hr)
        draft_cycle.refresh_from_db()
    else:
        from assessments.services import create_missing_assessments

        create_missing_assessments(draft_cycle)
    return force_complete(draft_cycle, parent, heads, seed=seed)


def force_complete(cycle, parent: OrgUnit, heads, *, seed: int = 7, bias=None):
    """Complete every not-yet-completed manager assessment under ``parent``, rated by their head.

    ``bias`` maps a head to a level offset (a lenient or strict rater).
    """
    rng = random.Random(seed)
    head_of = {h.org_unit_id: h for h in heads}
    pending = list(
        Assessment.objects.filter(cycle=cycle, org_unit__path__startswith=parent.path)
        .exclude(status=Assessment.Status.COMPLETED)
        .exclude(person__in=heads)
    )
    now = timezone.now()
    for a in pending:
        a.status, a.reviewer, a.completed_at = (
            Assessment.Status.COMPLETED,
            head_of[a.org_unit_id],
            now,
        )
    Assessment.objects.bulk_update(pending, ["status", "reviewer", "completed_at"])
    by_pk = {a.pk: a for a in pending}
    ratings = list(Rating.objects.filter(assessment__in=pending))
    for r in ratings:
        offset = (bias or {}).get(by_pk[r.assessment_id].reviewer, 0)
        r.self_level = rng.randint(1, 5)
        r.supervisor_level = min(5, max(1, rng.randint(2, 4) + offset))
        r.final_level = r.supervisor_level
    Rating.objects.bulk_update(
        ratings, ["self_level", "supervisor_level", "final_level"], batch_size=500
    )
    return heads
