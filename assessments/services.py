"""Workflows of cycles and assessments: open, save, submit, return, complete, close.

Every step is checked on the server against the state machine (``models.TRANSITIONS``), runs in a
transaction on a locked row, refuses a page that is out of date (``revision``), writes its
decision record, and queues its e-mail only after the commit.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, subtree_q
from accounts.permissions import Role, supervised_q
from competency.models import ModelVersion
from competency.profiles import Thresholds, classify

from . import tasks
from .models import (
    TRANSITIONS,
    Assessment,
    AssessmentEvent,
    Cycle,
    Evidence,
    IndustryRating,
    Rating,
)

COMMENT_MAX = 4000
# A supervisor level this far from the self level needs the supervisor's comment.
COMMENT_REQUIRED_DIFFERENCE = 2


class WorkflowError(Exception):
    """A step the current state forbids; the message is translated and shown as it is."""


class StaleAssessment(WorkflowError):
    """The assessment changed since the page was loaded: nothing was overwritten."""

    def __init__(self):
        super().__init__(
            _(
                "此评估在您打开页面后已被修改（可能在另一个窗口或由他人修改）。请刷新页面后再操作，您刚才的修改未被保存。"
            )
        )


class Missing(str):
    """What is missing, in words, carrying the form field it belongs to (for marking the field)."""

    field: str

    def __new__(cls, message: str, field: str):
        item = super().__new__(cls, message)
        item.field = field
        return item


class IncompleteAssessment(WorkflowError):
    """Submit or complete was refused; ``missing`` says precisely what to fill in."""

    def __init__(self, missing: list[str]):
        super().__init__(_("还不能提交，请补充以下内容：") + "；".join(missing))
        self.missing = missing


@dataclass(frozen=True)
class RatingInput:
    level: int | None
    comment: str = ""


@dataclass(frozen=True)
class IndustryInput:
    depth: int | None
    evidence: str = ""


# --- cycles -------------------------------------------------------------------------------------


def participants_of(cycle: Cycle):
    """Active people the cycle assesses: managers and supervisors in the chosen units' subtrees,
    plus everyone picked by name."""
    units = list(cycle.participant_units.all())
    in_units = subtree_q(units, "org_unit__path") & Q(
        groups__name__in=[Role.MANAGER, Role.SUPERVISOR]
    )
    picked = Q(pk__in=cycle.participant_people.values("pk"))
    return User.objects.filter(is_active=True).filter(in_units | picked).distinct()


def create_missing_assessments(cycle: Cycle) -> int:
    """One assessment (with a rating row per category) for every participant who has none.

    Set-based: two INSERT … SELECT statements whatever the number of people.
    """
    people = (
        participants_of(cycle)
        .exclude(Exists(Assessment.objects.filter(cycle=cycle, person=OuterRef("pk"))))
        .values("pk", "org_unit_id", "job_grade")
    )
    people_sql, people_params = people.query.sql_with_params()
    a, r, c = Assessment._meta.db_table, Rating._meta.db_table, "competency_category"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {a} (cycle_id, person_id, org_unit_id, target_grade) "  # noqa: S608
            f"SELECT %s, p.pk, p.org_unit_id, p.job_grade FROM ({people_sql}) p",
            [cycle.pk, *people_params],
        )
        created = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {r} (assessment_id, category_id) "  # noqa: S608
            f"SELECT a.id, c.id FROM {a} a CROSS JOIN {c} c "
            f"WHERE a.cycle_id = %s AND c.version_id = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {r} r WHERE r.assessment_id = a.id)",
            [cycle.pk, cycle.model_version_id],
        )
    return created


def open_cycle(*, cycle: Cycle, by) -> int:
    """Draft → open: every participant gets an assessment; the model version is fixed from now."""
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().select_related("model_version").get(pk=cycle.pk)
        if cycle.status != Cycle.Status.DRAFT:
            raise WorkflowError(_("只有草稿状态的评估周期可以开始。"))
        if cycle.model_version.status != ModelVersion.Status.PUBLISHED:
            raise WorkflowError(_("评估周期只能使用已发布的模型版本。"))
        created = create_missing_assessments(cycle)
        if created == 0:
            raise WorkflowError(_("该评估周期没有参与人员，请先选择参与单位或人员。"))
        cycle.status = Cycle.Status.OPEN
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["status", "opened_at"])
        transaction.on_commit(lambda: tasks.send_cycle_opened.delay(cycle.pk))
    return created


def add_participants(*, cycle: Cycle, people, by) -> int:
    """Add people by name; in an open cycle they get their assessment at once."""
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.status == Cycle.Status.CLOSED:
            raise WorkflowError(_("已结束的评估周期不能再添加人员。"))
        cycle.participant_people.add(*people)
        if cycle.status != Cycle.Status.OPEN:
            return 0
        created = create_missing_assessments(cycle)
        if created:
            person_ids = [p.pk for p in people]
            transaction.on_commit(lambda: tasks.send_cycle_opened.delay(cycle.pk, person_ids))
    return created


def close_cycle(*, cycle: Cycle, by) -> int:
    """Open → closed: everything unfinished becomes "not completed" (no final level, never zero)."""
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.status != Cycle.Status.OPEN:
            raise WorkflowError(_("只有进行中的评估周期可以结束。"))
        from_states, to_state = TRANSITIONS["expire"]
        unfinished = Assessment.objects.filter(cycle=cycle, status__in=from_states)
        now = timezone.now()
        AssessmentEvent.objects.bulk_create(
            [
                AssessmentEvent(
                    assessment_id=pk, action=AssessmentEvent.Action.NOT_COMPLETED, actor=by, at=now
                )
                for pk in unfinished.values_list("pk", flat=True).iterator(chunk_size=2000)
            ],
            batch_size=2000,
        )
        expired = unfinished.update(status=to_state)
        cycle.status = Cycle.Status.CLOSED
        cycle.closed_at = now
        cycle.save(update_fields=["status", "closed_at"])
    return expired


# --- one assessment -----------------------------------------------------------------------------


def _lock(assessment: Assessment, revision: int | None, save_token: str = "") -> Assessment:
    """The row, locked for this transaction; refuses a page that saw an older revision.

    A retry of a save whose first try was applied (its answer lost on the way back) carries the
    same ``save_token`` and the revision before that save: it is the same author's latest
    snapshot, so it is accepted rather than called stale.
    """
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("cycle", "cycle__model_version", "person")
        .get(pk=assessment.pk)
    )
    replay = bool(save_token) and save_token == locked.last_save_token
    current = revision == locked.revision or (replay and revision == locked.revision - 1)
    if revision is not None and not current:
        raise StaleAssessment()
    if locked.cycle.status != Cycle.Status.OPEN:
        raise WorkflowError(_("评估周期未在进行中，评估不能再修改。"))
    return locked


def _step(assessment: Assessment, step: str, by, note: str = "", **fields) -> None:
    """Apply a state-machine step to a locked assessment and record the decision."""
    from_states, to_state = TRANSITIONS[step]
    if assessment.status not in from_states:
        raise WorkflowError(
            _("当前状态（%(status)s）不允许此操作。") % {"status": assessment.get_status_display()}
        )
    assessment.status = to_state
    _save(assessment, "status", **fields)
    if step in _RECORDED_STEPS:
        AssessmentEvent.objects.create(
            assessment=assessment, action=_RECORDED_STEPS[step], actor=by, note=note
        )


_RECORDED_STEPS = {
    "submit": AssessmentEvent.Action.SELF_SUBMITTED,
    "return": AssessmentEvent.Action.RETURNED,
    "complete": AssessmentEvent.Action.COMPLETED,
}


def _save(assessment: Assessment, *changed: str, **values) -> None:
    for name, value in values.items():
        setattr(assessment, name, value)
    assessment.revision += 1
    assessment.save(update_fields=[*changed, *values, "revision"])


def _check_level(value, what: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise WorkflowError(_("%(what)s的等级必须是 1 到 5。") % {"what": what})
    return value


def _check_comment(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > COMMENT_MAX:
        raise WorkflowError(_("说明不能超过 %(n)s 个字。") % {"n": COMMENT_MAX})
    return text


def _apply_ratings(assessment, ratings: dict[str, RatingInput], level_field, comment_field):
    rows = {r.category.code: r for r in assessment.ratings.select_related("category")}
    changed = []
    for code, given in ratings.items():
        row = rows.get(code)
        if row is None:
            raise WorkflowError(_("未知的能力类别：%(code)s") % {"code": code})
        setattr(row, level_field, _check_level(given.level, row.category.name))
        setattr(row, comment_field, _check_comment(given.comment))
        changed.append(row)
    Rating.objects.bulk_update(changed, [level_field, comment_field])


def _apply_industries(assessment, industries: dict[str, IndustryInput]):
    """Make the chosen industries exactly ``industries`` (self depth and evidence)."""
    known = {i.code: i for i in assessment.cycle.model_version.industries.all()}
    unknown = set(industries) - set(known)
    if unknown:
        raise WorkflowError(_("未知的行业：%(codes)s") % {"codes": ", ".join(sorted(unknown))})
    assessment.industry_ratings.exclude(industry__code__in=list(industries)).delete()
    existing = {r.industry.code: r for r in assessment.industry_ratings.select_related("industry")}
    for code, given in industries.items():
        row = existing.get(code) or IndustryRating(assessment=assessment, industry=known[code])
        row.self_depth = _check_level(given.depth, known[code].name)
        row.evidence = _check_comment(given.evidence)
        row.save()


def save_self_assessment(
    *,
    assessment: Assessment,
    by,
    revision: int | None,
    ratings: dict[str, RatingInput] | None = None,
    industries: dict[str, IndustryInput] | None = None,
    comment: str | None = None,
    save_token: str = "",
) -> Assessment:
    """Save (part of) the manager's draft; the first save moves "not started" to "in progress"."""
    with transaction.atomic():
        assessment = _lock(assessment, revision, save_token)
        if assessment.person_id != by.pk:
            raise PermissionDenied
        if not assessment.self_editable:
            raise WorkflowError(_("自评已提交，不能再修改。"))
        if ratings:
            _apply_ratings(assessment, ratings, "self_level", "self_comment")
        if industries is not None:
            _apply_industries(assessment, industries)
        changed = ["self_saved_at", "last_save_token"]
        assessment.last_save_token = save_token[:64]
        if comment is not None:
            assessment.self_comment = _check_comment(comment)
            changed.append("self_comment")
        if assessment.status == Assessment.Status.NOT_STARTED:
            assessment.status = TRANSITIONS["start"][1]
            changed.append("status")
        _save(assessment, *changed, self_saved_at=timezone.now())
    return assessment


def _lock_own_editable(assessment: Assessment, by) -> Assessment:
    """The person's own assessment, locked, while the self-assessment may still change."""
    try:
        locked = _lock(assessment, None)
    except WorkflowError as exc:
        raise WorkflowError(_("自评已提交或评估周期已结束，佐证材料不能再修改。")) from exc
    if locked.person_id != by.pk:
        raise PermissionDenied
    if not locked.self_editable:
        raise WorkflowError(_("自评已提交或评估周期已结束，佐证材料不能再修改。"))
    return locked


def attach_evidence(*, assessment: Assessment, by, evidence: Evidence) -> Evidence:
    """Store an evidence file on one's own editable self-assessment (the page stays current)."""
    with transaction.atomic():
        evidence.assessment = _lock_own_editable(assessment, by)
        evidence.uploaded_by = by
        evidence.save()
    return evidence


def remove_evidence(*, evidence: Evidence, by) -> None:
    """Delete an evidence file while editable; the stored file goes only once the delete commits."""
    with transaction.atomic():
        _lock_own_editable(evidence.assessment, by)
        storage, name = evidence.file.storage, evidence.file.name
        evidence.delete()
        transaction.on_commit(lambda: storage.delete(name))


def self_assessment_gaps(assessment: Assessment) -> list[str]:
    """What the manager still has to fill in before submitting (empty when complete)."""
    missing = [
        Missing(_("“%(name)s”的自评等级") % {"name": r.category.name}, f"level-{r.category.code}")
        for r in assessment.ratings.select_related("category", "category__domain").order_by(
            "category__domain__order", "category__order"
        )
        if r.self_level is None
    ]
    industries = list(assessment.industry_ratings.select_related("industry"))
    if not industries:
        missing.append(Missing(_("至少选择一个行业并评定研究深度"), "industry"))
    missing += [
        Missing(
            _("行业“%(name)s”的研究深度") % {"name": i.industry.name}, f"depth-{i.industry.code}"
        )
        for i in industries
        if i.self_depth is None
    ]
    return missing


def submit_self_assessment(*, assessment: Assessment, by, revision: int | None) -> Assessment:
    """Hand the self-assessment to the supervisor; refused with the list of what is missing."""
    with transaction.atomic():
        assessment = _lock(assessment, revision)
        if assessment.person_id != by.pk:
            raise PermissionDenied
        missing = self_assessment_gaps(assessment)
        if missing:
            raise IncompleteAssessment(missing)
        _step(assessment, "submit", by, submitted_at=timezone.now())
    return assessment


def _require_reviewer(assessment: Assessment, by) -> None:
    allowed = User.objects.filter(pk=assessment.person_id).filter(supervised_q(by)).exists()
    if not allowed:
        raise PermissionDenied


def save_review(
    *,
    assessment: Assessment,
    by,
    revision: int | None,
    ratings: dict[str, RatingInput] | None = None,
    depths: dict[str, int | None] | None = None,
    comment: str | None = None,
) -> Assessment:
    """Save the supervisor's levels, comments and industry depths while reviewing."""
    with transaction.atomic():
        assessment = _lock(assessment, revision)
        _require_reviewer(assessment, by)
        if not assessment.reviewable:
            raise WorkflowError(_("只有已提交的评估可以评价。"))
        if ratings:
            _apply_ratings(assessment, ratings, "supervisor_level", "supervisor_comment")
        for row in assessment.industry_ratings.select_related("industry"):
            if depths and row.industry.code in depths:
                row.supervisor_depth = _check_level(depths[row.industry.code], row.industry.name)
                row.save(update_fields=["supervisor_depth"])
        changed = []
        if comment is not None:
            assessment.supervisor_comment = _check_comment(comment)
            changed.append("supervisor_comment")
        _save(assessment, *changed)
    return assessment


def return_assessment(
    *, assessment: Assessment, by, revision: int | None, reason: str
) -> Assessment:
    """Send the self-assessment back to the manager, who may edit it again; a reason is required."""
    reason = _check_comment(reason)
    if not reason:
        raise WorkflowError(_("退回时必须填写原因。"))
    with transaction.atomic():
        assessment = _lock(assessment, revision)
        _require_reviewer(assessment, by)
        _step(assessment, "return", by, note=reason)
        transaction.on_commit(lambda: tasks.send_assessment_returned.delay(assessment.pk))
    return assessment


def review_gaps(assessment: Assessment) -> list[str]:
    """What the supervisor still has to fill in before completing (empty when complete)."""
    missing = []
    for r in assessment.ratings.select_related("category", "category__domain").order_by(
        "category__domain__order", "category__order"
    ):
        if r.supervisor_level is None:
            missing.append(
                Missing(
                    _("“%(name)s”的主管评价等级") % {"name": r.category.name},
                    f"level-{r.category.code}",
                )
            )
        elif (
            r.self_level is not None
            and abs(r.supervisor_level - r.self_level) >= COMMENT_REQUIRED_DIFFERENCE
            and not r.supervisor_comment
        ):
            missing.append(
                Missing(
                    _("“%(name)s”的评语（与自评相差两级或以上时必填）") % {"name": r.category.name},
                    f"comment-{r.category.code}",
                )
            )
    missing += [
        Missing(
            _("行业“%(name)s”的主管评价深度") % {"name": i.industry.name},
            f"depth-{i.industry.code}",
        )
        for i in assessment.industry_ratings.select_related("industry")
        if i.supervisor_depth is None
    ]
    return missing


def complete_assessment(*, assessment: Assessment, by, revision: int | None) -> Assessment:
    """Complete the review: final levels and depths under the cycle's rule, and the T-shape class."""
    with transaction.atomic():
        assessment = _lock(assessment, revision)
        _require_reviewer(assessment, by)
        if not assessment.reviewable:
            raise WorkflowError(_("只有已提交的评估可以完成。"))
        # Imported here: the calibration services import this module's errors.
        from .calibration.services import ensure_levels_unlocked

        ensure_levels_unlocked(assessment)
        missing = review_gaps(assessment)
        if missing:
            raise IncompleteAssessment(missing)
        cycle = assessment.cycle
        ratings = list(assessment.ratings.select_related("category"))
        for r in ratings:
            r.final_level = cycle.final_level(r.self_level, r.supervisor_level)
        Rating.objects.bulk_update(ratings, ["final_level"])
        depths = list(assessment.industry_ratings.all())
        for d in depths:
            d.final_depth = cycle.final_level(d.self_depth, d.supervisor_depth)
        IndustryRating.objects.bulk_update(depths, ["final_depth"])
        result = classify(
            {r.category.code: r.final_level for r in ratings},
            [d.final_depth for d in depths],
            Thresholds.of(cycle.model_version),
        )
        _step(
            assessment,
            "complete",
            by,
            completed_at=timezone.now(),
            reviewer=by,
            classification=result.shape,
        )
        transaction.on_commit(lambda: tasks.send_assessment_completed.delay(assessment.pk))
    return assessment


def may_review(user, assessment: Assessment) -> bool:
    """True when ``user`` rates this assessment's person as supervisor."""
    return User.objects.filter(pk=assessment.person_id).filter(supervised_q(user)).exists()
