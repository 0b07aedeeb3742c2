"""Shared helpers and fixtures of the certification tests (imported by the test_certification_*
modules; this module holds no tests of its own)."""

import pytest
from django.utils import timezone

from accounts.permissions import Role
from assessments.certification import services
from assessments.models import Assessment, IndustryRating, Rating
from assessments.services import (
    RatingInput,
    add_participants,
    complete_assessment,
    save_review,
)

from .assessment_helpers import codes, submit
from .factories import UserFactory


def mine(cycle, person) -> Assessment:
    return Assessment.objects.get(cycle=cycle, person=person)


def complete_with(assessment, supervisor, levels=None, default=3, depth=4) -> Assessment:
    """Self-assess at 3 and complete through the real workflow with the supervisor's levels
    (``levels`` by category code, ``default`` elsewhere) and industry depth."""
    assessment = submit(assessment)
    levels = levels or {}
    assessment = save_review(
        assessment=assessment,
        by=supervisor,
        revision=assessment.revision,
        ratings={c: RatingInput(levels.get(c, default), "") for c in codes(assessment)},
        depths={
            r.industry.code: depth for r in assessment.industry_ratings.select_related("industry")
        },
    )
    return complete_assessment(assessment=assessment, by=supervisor, revision=assessment.revision)


def fast_complete(cycle, people, level=3, depth=4) -> None:
    """Completed assessments with final levels written directly (for volume tests only)."""
    add_participants(cycle=cycle, people=people, by=None)
    assessments = Assessment.objects.filter(cycle=cycle, person__in=people)
    Rating.objects.filter(assessment__in=assessments).update(
        self_level=level, supervisor_level=level, final_level=level
    )
    industry = cycle.model_version.industries.order_by("order").first()
    IndustryRating.objects.bulk_create(
        [
            IndustryRating(
                assessment=a,
                industry=industry,
                self_depth=depth,
                supervisor_depth=depth,
                final_depth=depth,
            )
            for a in assessments
        ]
    )
    assessments.update(status=Assessment.Status.COMPLETED, completed_at=timezone.now())


def team_members(org, n, prefix="m"):
    return [
        UserFactory(username=f"{prefix}{i}", org_unit=org["A"], roles=[Role.MANAGER])
        for i in range(n)
    ]


def apply(cycle, person, grade="G4", note=""):
    return services.apply_for_certification(
        assessment=mine(cycle, person), grade_code=grade, by=person, note=note
    )


def approved(cycle, person, supervisor, grade="G4"):
    application = apply(cycle, person, grade)
    return services.approve_application(application=application, by=supervisor)


def certified(cycle, person, supervisor, hr, grade="G4"):
    return services.confirm_application(
        application=approved(cycle, person, supervisor, grade), by=hr
    )


@pytest.fixture(name="completed")
def completed_fixture(open_cycle, personas):
    """The manager's assessment completed by the supervisor: all 3s, finance depth 4 (G4)."""
    return complete_with(mine(open_cycle, personas["manager"]), personas["supervisor"])
