"""Everything stored about one person, as one JSON-ready document (``tshape-personal-data/1``).

The person's account, unit and roles; their assessments with ratings, comments, evidence metadata
and decisions; certification applications and certificates; development goals; calibration
adjustments of their levels; and the audit events they did or that are about them. Rows of other
people are never included: an audit event the person did about someone else keeps its type and
id but not that person's name.

This module reads the assessments app (the one place in ``accounts`` that does): a person's data
lives there too. ``accounts.models`` does not import it, so model loading order is unaffected.
"""

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentEvent,
    CalibrationAdjustment,
    Certificate,
    CertificationApplication,
    CertificationEvent,
    DevelopmentGoal,
    GoalComment,
    Rating,
)

from .audit import AuditEvent

FORMAT = "tshape-personal-data/1"
PERSON_FIELDS = [
    "id",
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "employee_no",
    "phone",
    "preferred_language",
    "job_grade",
    "is_active",
    "date_joined",
    "last_login",
    "erased_at",
]


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _pick(obj, names) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _decisions(events) -> list[dict]:
    return [
        {
            "at": _plain(e.at),
            "action": getattr(e, "action", ""),
            "actor": _username(e.actor),
            "note": e.note,
            "details": e.details,
        }
        for e in events
    ]


def personal_data_document(person, *, exported_by) -> dict:
    """The whole document for ``person`` (a fixed number of queries)."""
    unit = person.org_unit
    return {
        "format": FORMAT,
        "exported_at": _plain(timezone.now()),
        "exported_by": _username(exported_by),
        "person": _pick(person, PERSON_FIELDS),
        "org_unit": _pick(unit, ["code", "name_zh", "name_en", "kind"]) if unit else None,
        "roles": sorted(person.groups.values_list("name", flat=True)),
        "headed_units": sorted(person.headed_units.values_list("code", flat=True)),
        "assessments": [_assessment(a) for a in _assessments(person)],
        "certification_applications": _applications(person),
        "certificates": _certificates(person),
        "development_goals": _goals(person),
        "calibration_adjustments": _adjustments(person),
        "audit_events": _audit_events(person),
    }


def _assessments(person):
    events = AssessmentEvent.objects.select_related("actor")
    ratings = Rating.objects.select_related("category").order_by(
        "category__domain__order", "category__order"
    )
    return (
        Assessment.objects.filter(person=person)
        .select_related("cycle", "org_unit", "reviewer")
        .prefetch_related(
            Prefetch("ratings", queryset=ratings, to_attr="rating_list"),
            "industry_ratings__industry",
            "evidence__category",
            "evidence__industry",
            Prefetch("events", queryset=events, to_attr="event_list"),
        )
        .order_by("cycle__created_at", "pk")
    )


def _assessment(a) -> dict:
    return {
        **_pick(a, ["id", "status", "target_grade", "classification", "self_comment"]),
        **_pick(a, ["supervisor_comment", "self_saved_at", "submitted_at", "completed_at"]),
        "cycle": {"id": a.cycle_id, "name": a.cycle.name},
        "org_unit": a.org_unit.code if a.org_unit else None,
        "reviewer": _username(a.reviewer),
        "ratings": [
            {"category": r.category.code}
            | _pick(r, ["self_level", "self_comment", "supervisor_level", "supervisor_comment"])
            | {"final_level": r.final_level}
            for r in a.rating_list
        ],
        "industry_ratings": [
            {"industry": r.industry.code}
            | _pick(r, ["self_depth", "supervisor_depth", "final_depth", "evidence"])
            for r in a.industry_ratings.all()
        ],
        "evidence": [
            {
                "category": e.category.code if e.category else None,
                "industry": e.industry.code if e.industry else None,
            }
            | _pick(e, ["id", "original_name", "content_type", "size", "uploaded_at"])
            for e in a.evidence.all()
        ],
        "decisions": _decisions(a.event_list),
    }


def _applications(person) -> list[dict]:
    events = CertificationEvent.objects.select_related("actor")
    applications = (
        CertificationApplication.objects.filter(person=person)
        .select_related("cycle", "grade", "eligible_grade")
        .prefetch_related(Prefetch("events", queryset=events, to_attr="event_list"))
    )
    return [
        _pick(a, ["id", "status", "assessment_id", "created_at", "updated_at"])
        | {
            "cycle": a.cycle.name,
            "grade": a.grade.code,
            "eligible_grade": a.eligible_grade.code if a.eligible_grade else None,
            "decisions": _decisions(a.event_list),
        }
        for a in applications
    ]


def _certificates(person) -> list[dict]:
    certificates = Certificate.objects.filter(person=person).select_related("grade")
    return [
        _pick(c, ["number", "holder_name", "issued_on", "valid_until", "status", "revoked_at"])
        | {"grade": c.grade.code}
        for c in certificates
    ]


def _goals(person) -> list[dict]:
    comments = GoalComment.objects.select_related("actor")
    goals = DevelopmentGoal.objects.filter(person=person).prefetch_related(
        Prefetch("comments", queryset=comments, to_attr="comment_list")
    )
    return [
        _pick(g, ["id", "title", "category_code", "due_date", "status", "created_at"])
        | {"comments": _decisions(g.comment_list)}
        for g in goals
    ]


def _adjustments(person) -> list[dict]:
    adjustments = CalibrationAdjustment.objects.filter(assessment__person=person).select_related(
        "category", "actor"
    )
    return [
        _pick(a, ["assessment_id", "supervisor_level", "from_level", "to_level", "note", "at"])
        | {"category": a.category.code, "actor": _username(a.actor)}
        for a in adjustments
    ]


def _audit_events(person) -> list[dict]:
    events = AuditEvent.objects.concerning(person).order_by("at", "pk")
    return [
        _pick(e, ["at", "action", "actor_label", "target_type", "target_id", "summary"])
        | _pick(e, ["ip_address", "user_agent", "request_id"])
        # The label of someone else's row (a decision this person made about them) stays out.
        | {"target_label": e.target_label if e.subject_id in (None, person.pk) else ""}
        for e in events
    ]
