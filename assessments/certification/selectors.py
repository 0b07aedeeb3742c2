"""Read-shaped queries of certification: eligibility, the manager's page, the queues, the register.

Each returns plain data or a queryset scoped to the reader, in a fixed number of queries whatever
the number of rows (tests/test_certification_queries.py holds them to it).
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import OrgUnit
from competency.models import Grade
from competency.profiles import Eligibility, GradeCheck, GradeProfile, check_grade, eligibility
from competency.selectors import grade_profiles

from ..models import (
    Assessment,
    Certificate,
    CertificationApplication,
    CertificationEvent,
    Cycle,
    IndustryRating,
    Rating,
)

PAGE_SIZE = 50


# --- eligibility --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinalProfile:
    """One completed assessment's final levels by category code, and its final industry depths."""

    levels: dict[str, int | None]
    depths: list[int | None]
    category_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EligibilityReport:
    """What a completed assessment qualifies for, and what the next grade up still needs."""

    assessment: Assessment
    profile: FinalProfile
    grades: list[GradeProfile]
    result: Eligibility

    @property
    def eligible(self) -> GradeProfile | None:
        return self.result.eligible

    @property
    def next_check(self) -> GradeCheck | None:
        return self.result.next_check

    @property
    def applicable(self) -> list[GradeProfile]:
        """The grades one may apply for: every grade up to the eligible one."""
        if self.eligible is None:
            return []
        return [g for g in self.grades if g.order <= self.eligible.order]

    @property
    def missing(self) -> list[str]:
        """What is missing for the next grade, in words, categories named as well as numbered."""
        return named_missing_lines(self.next_check, self.profile.category_names)


def named_missing_lines(check: GradeCheck | None, names: dict[str, str]) -> list[str]:
    """``check.missing_lines()`` with "1.3 IT知识" where the pure function only knows "1.3"."""
    if check is None:
        return []
    named = tuple(
        replace(s, category=f"{s.category} {names.get(s.category, '')}".strip())
        for s in check.shortfalls
    )
    return replace(check, shortfalls=named).missing_lines()


def final_profile(assessment: Assessment) -> FinalProfile:
    """The assessment's final levels and depths (two queries)."""
    ratings = Rating.objects.filter(assessment=assessment).values_list(
        "category__code", "category__name_zh", "category__name_en", "final_level"
    )
    levels, names = {}, {}
    for code, name_zh, name_en, level in ratings:
        levels[code] = level
        names[code] = _localized(name_zh, name_en)
    depths = list(
        IndustryRating.objects.filter(assessment=assessment).values_list("final_depth", flat=True)
    )
    return FinalProfile(levels=levels, depths=depths, category_names=names)


def _localized(zh: str, en: str) -> str:
    from accounts.i18n import active_language_is_english

    return (en or zh) if active_language_is_english() else (zh or en)


def eligibility_report(assessment: Assessment) -> EligibilityReport:
    """Eligibility of one completed assessment against its cycle's model version (four queries)."""
    grades = grade_profiles(assessment.cycle.model_version)
    profile = final_profile(assessment)
    return EligibilityReport(
        assessment=assessment,
        profile=profile,
        grades=grades,
        result=eligibility(grades, profile.levels, profile.depths),
    )


def grade_check(application: CertificationApplication) -> tuple[GradeCheck | None, FinalProfile]:
    """The applied grade's check against the application's final levels (for the approver)."""
    profile = final_profile(application.assessment)
    grades = {g.code: g for g in grade_profiles(application.cycle.model_version)}
    grade = grades.get(application.grade.code)
    if grade is None:
        return None, profile
    return check_grade(grade, profile.levels, profile.depths), profile


def requirement_rows(check: GradeCheck | None, profile: FinalProfile) -> list[dict]:
    """Per category of the grade: the final level beside the level the grade requires."""
    if check is None:
        return []
    rows = []
    for code, required in check.grade.minimums.items():
        level = profile.levels.get(code)
        rows.append(
            {
                "code": code,
                "name": profile.category_names.get(code, ""),
                "level": level,
                "required": required,
                "met": (level or 0) >= required,
            }
        )
    return rows


def latest_completed_assessment(person) -> Assessment | None:
    """The person's most recently completed assessment: the one an application stands on."""
    return (
        Assessment.objects.filter(person=person, status=Assessment.Status.COMPLETED)
        .select_related("cycle", "cycle__model_version")
        .order_by("-completed_at", "-pk")
        .first()
    )


def superseded_q() -> Q:
    """Completed assessments for which the same person has a later completed one."""
    later = Assessment.objects.filter(
        person=OuterRef("person"),
        status=Assessment.Status.COMPLETED,
        completed_at__gt=OuterRef("completed_at"),
    )
    return Q(Exists(later))


def cycle_eligibility(cycle: Cycle) -> dict[int, GradeProfile | None]:
    """Assessment id → eligible grade for every completed assessment of the cycle (four queries)."""
    grades = grade_profiles(cycle.model_version)
    levels: dict[int, dict[str, int | None]] = defaultdict(dict)
    for assessment_id, code, level in Rating.objects.filter(
        assessment__cycle=cycle, assessment__status=Assessment.Status.COMPLETED
    ).values_list("assessment_id", "category__code", "final_level"):
        levels[assessment_id][code] = level
    depths: dict[int, list] = defaultdict(list)
    for assessment_id, depth in IndustryRating.objects.filter(
        assessment__cycle=cycle, assessment__status=Assessment.Status.COMPLETED
    ).values_list("assessment_id", "final_depth"):
        depths[assessment_id].append(depth)
    return {pk: eligibility(grades, lv, depths[pk]).eligible for pk, lv in levels.items()}


# --- the manager's page -------------------------------------------------------------------------


@dataclass
class MyCertification:
    """Everything the manager's own certification page shows."""

    certificates: list[Certificate]
    report: EligibilityReport | None
    open_application: CertificationApplication | None
    applications: list[CertificationApplication]

    @property
    def current(self) -> Certificate | None:
        """The highest grade among the valid certificates (the one the page leads with)."""
        valid = [c for c in self.certificates if c.current_state == Certificate.Status.VALID]
        return max(valid, key=lambda c: (c.grade.order, c.issued_on), default=None)

    @property
    def held_in_cycle(self) -> CertificationApplication | None:
        """The highest confirmed application from the assessment the page stands on."""
        if self.report is None:
            return None
        confirmed = [
            a
            for a in self.applications
            if a.cycle_id == self.report.assessment.cycle_id
            and a.status == CertificationApplication.Status.CONFIRMED
        ]
        return max(confirmed, key=lambda a: a.grade.order, default=None)

    @property
    def choices(self) -> list[GradeProfile]:
        """Grades one may still apply for: up to the eligible one, above any already held."""
        if self.report is None:
            return []
        held = self.held_in_cycle
        return [g for g in self.report.applicable if held is None or g.order > held.grade.order]

    @property
    def can_apply(self) -> bool:
        return bool(self.choices) and self.open_application is None


def _events_prefetch() -> Prefetch:
    return Prefetch(
        "events",
        queryset=CertificationEvent.objects.select_related("actor").order_by("at", "pk"),
    )


def my_certification(user, today: date) -> MyCertification:
    """The user's certificates, eligibility from their latest completed assessment, history."""
    certificates = list(
        Certificate.objects.filter(person=user).select_related("grade").order_by("-issued_on")
    )
    for certificate in certificates:
        certificate.current_state = certificate.state(today)
    applications = list(
        CertificationApplication.objects.filter(person=user)
        .select_related("grade", "cycle", "raised_by", "certificate")
        .prefetch_related(_events_prefetch())
    )
    assessment = latest_completed_assessment(user)
    report = eligibility_report(assessment) if assessment else None
    open_application = next(
        (a for a in applications if a.is_open and assessment and a.cycle_id == assessment.cycle_id),
        None,
    )
    return MyCertification(certificates, report, open_application, applications)


# --- queues -------------------------------------------------------------------------------------


def _queue_rows(applications: QuerySet) -> QuerySet:
    return applications.select_related(
        "person", "person__org_unit", "cycle", "grade", "eligible_grade", "raised_by"
    ).order_by("created_at", "pk")


def approval_queue(user) -> QuerySet:
    """Applications waiting for ``user``'s approval: only people they rate as supervisor."""
    return _queue_rows(
        CertificationApplication.objects.supervised_by(user).filter(
            status=CertificationApplication.Status.SUPERVISOR_PENDING
        )
    )


def confirmation_queue(user) -> QuerySet:
    """Applications approved by a supervisor, waiting for HR, each with its approval record."""
    approvals = CertificationEvent.objects.filter(
        action=CertificationEvent.Action.APPROVED
    ).select_related("actor")
    return _queue_rows(
        CertificationApplication.objects.visible_to(user).filter(
            status=CertificationApplication.Status.HR_PENDING
        )
    ).prefetch_related(Prefetch("events", queryset=approvals, to_attr="approvals"))


def page_of(rows: QuerySet, number) -> Page:
    page = Paginator(rows, PAGE_SIZE).get_page(number)
    page.object_list = list(page.object_list)
    return page


def cycles_with_completed() -> list[Cycle]:
    """Cycles (any state) that have completed assessments, newest first."""
    completed = Assessment.objects.filter(cycle=OuterRef("pk"), status=Assessment.Status.COMPLETED)
    return list(
        Cycle.objects.filter(Exists(completed))
        .select_related("model_version")
        .order_by("-created_at", "-pk")
    )


# --- the register -------------------------------------------------------------------------------


@dataclass
class RegisterFilters:
    """What HR narrowed the register to; empty values filter nothing."""

    grade: str = ""
    state: str = ""
    unit: OrgUnit | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    query: str = ""

    def apply(self, certificates: QuerySet, today: date) -> QuerySet:
        if self.grade:
            certificates = certificates.filter(grade__code=self.grade)
        if self.state:
            certificates = certificates.in_state(self.state, today)
        if self.unit is not None:
            certificates = certificates.filter(person__org_unit__path__startswith=self.unit.path)
        if self.valid_from:
            certificates = certificates.filter(valid_until__gte=self.valid_from)
        if self.valid_to:
            certificates = certificates.filter(valid_until__lte=self.valid_to)
        if self.query:
            certificates = certificates.matching(self.query)
        return certificates


def register_rows(user, filters: RegisterFilters, today: date) -> QuerySet:
    """The certificates ``user`` may see under ``filters``, in register order."""
    return (
        filters.apply(Certificate.objects.visible_to(user), today)
        .select_related("person", "person__org_unit", "grade", "application__cycle")
        .order_by("-issued_on", "-pk")
    )


def register_page(user, filters: RegisterFilters, today: date, number) -> Page:
    page = page_of(register_rows(user, filters, today), number)
    for certificate in page.object_list:
        certificate.current_state = certificate.state(today)
    return page


def register_grades() -> list[tuple[str, str]]:
    """(code, name) of every grade a certificate was issued for, one per code, in grade order."""
    seen: dict[str, str] = {}
    for grade in Grade.objects.filter(Exists(Certificate.objects.filter(grade=OuterRef("pk")))):
        seen.setdefault(grade.code, grade.name)
    return sorted(seen.items())
