"""Calibration workflows: open a session, set its guide, adjust a final level, close, reopen.

Who may do what (the one place for calibration's access rules):

* HR (``Capability.MANAGE_CYCLES``) runs sessions of any unit; a head (``Capability.REVIEW``) runs
  sessions of units inside a subtree they head (``can(user, REVIEW, unit)``).
* Adjusting a level: HR anywhere; a head only for people they rate (``supervised_q``), so never
  their own assessment nor a peer head's — a head is calibrated by someone above. Nobody adjusts
  their own assessment, HR included.
* Setting the guide and reopening a closed session are HR's.

Every step runs in a transaction on the locked session row (then the locked assessment rows, in
that order everywhere, so a close and an adjustment cannot interleave) and writes its decision
record. ``ensure_levels_unlocked`` is the check any other writer of final levels calls.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Capability, can, has_capability, supervised_q
from competency.profiles import Thresholds, classify

from ..models import (
    Assessment,
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    Cycle,
)
from ..models.calibration import GUIDE_FIELDS, GUIDE_LEVELS
from ..services import COMMENT_MAX, StaleAssessment, WorkflowError


class CalibrationError(WorkflowError):
    """A calibration step the current state forbids; the message is shown as it is."""


class LevelsLocked(CalibrationError):
    """A closed calibration session holds this assessment's final levels."""

    def __init__(self, session: CalibrationSession | None = None):
        if session is None:
            message = _("此评估的最终等级已在校准结束时锁定，不能再修改。")
        else:
            message = _(
                "此评估的最终等级已由“%(unit)s”的校准锁定（已结束），需人力资源重新开启后才能修改。"
            ) % {"unit": session.org_unit}
        super().__init__(message)


# --- who may ------------------------------------------------------------------------------------


def may_use_calibration(user) -> bool:
    """The pages are for HR and heads; other roles get 403."""
    return has_capability(user, Capability.MANAGE_CYCLES) or has_capability(user, Capability.REVIEW)


def may_calibrate(user, unit) -> bool:
    """May ``user`` open, run and close a session of ``unit`` (HR, or a head above it)?"""
    return has_capability(user, Capability.MANAGE_CYCLES) or can(user, Capability.REVIEW, unit)


def may_manage_guide_and_reopen(user) -> bool:
    """Setting the guide distribution and reopening a closed session are HR's."""
    return has_capability(user, Capability.MANAGE_CYCLES)


def may_adjust(user, session: CalibrationSession, assessment: Assessment) -> bool:
    """May ``user`` change a final level of ``assessment`` in ``session``? Never their own."""
    if not user.is_authenticated or assessment.person_id == user.pk:
        return False
    if has_capability(user, Capability.MANAGE_CYCLES):
        return True
    if not may_calibrate(user, session.org_unit):
        return False
    return User.objects.filter(pk=assessment.person_id).filter(supervised_q(user)).exists()


def ensure_levels_unlocked(assessment: Assessment) -> None:
    """Raise ``LevelsLocked`` when a closed session covers the assessment (one query).

    Call it with the assessment row locked: closing a session locks the same rows first.
    """
    closed = (
        CalibrationSession.objects.closed_covering(assessment).select_related("org_unit").first()
    )
    if closed is not None:
        raise LevelsLocked(closed)


# --- checks -------------------------------------------------------------------------------------


def _check_reason(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CalibrationError(message)
    if len(text) > COMMENT_MAX:
        raise CalibrationError(_("原因不能超过 %(n)s 个字。") % {"n": COMMENT_MAX})
    return text


def _check_level(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise CalibrationError(_("等级必须是 1 到 5。"))
    return value


def check_guide(shares: dict[int, int] | None) -> dict[int, int] | None:
    """Whole percentages per level 1–5 that sum to 100, or None (no guide)."""
    if shares is None:
        return None
    if set(shares) != set(GUIDE_LEVELS):
        raise CalibrationError(_("参考分布必须为每个等级（1–5）填写占比。"))
    for value in shares.values():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise CalibrationError(_("每个占比必须是 0 到 100 之间的整数。"))
    if sum(shares.values()) != 100:
        raise CalibrationError(
            _("参考分布各等级占比之和必须为 100%%，当前为 %(total)s%%。")
            % {"total": sum(shares.values())}
        )
    return dict(shares)


def _lock_session(session: CalibrationSession) -> CalibrationSession:
    return (
        CalibrationSession.objects.select_for_update(of=("self",))
        .select_related("cycle", "org_unit")
        .get(pk=session.pk)
    )


def _require_open(session: CalibrationSession) -> None:
    if not session.is_open:
        raise CalibrationError(_("校准已结束，最终等级已锁定，不能再调整。"))


# --- sessions -----------------------------------------------------------------------------------


def open_session(*, cycle: Cycle, unit, by) -> CalibrationSession:
    """Start calibrating ``unit``'s subtree in ``cycle`` (one session per cycle and unit)."""
    if not may_calibrate(by, unit):
        raise PermissionDenied
    cycle = Cycle.objects.get(pk=cycle.pk)  # the stored status, not the caller's copy
    if cycle.status == Cycle.Status.DRAFT:
        raise CalibrationError(_("草稿状态的评估周期还没有评估结果，不能校准。"))
    try:
        with transaction.atomic():
            session = CalibrationSession.objects.create(cycle=cycle, org_unit=unit, created_by=by)
            CalibrationEvent.objects.create(
                session=session, action=CalibrationEvent.Action.OPENED, actor=by
            )
    except IntegrityError:
        raise CalibrationError(
            _("“%(cycle)s”已有“%(unit)s”的校准，请直接打开它。") % {"cycle": cycle, "unit": unit}
        ) from None
    return session


def set_guide(*, session: CalibrationSession, by, shares: dict[int, int] | None) -> None:
    """HR sets (or clears, with None) the guide distribution of an open session."""
    if not may_manage_guide_and_reopen(by):
        raise PermissionDenied
    shares = check_guide(shares)
    with transaction.atomic():
        session = _lock_session(session)
        _require_open(session)
        for level, name in zip(GUIDE_LEVELS, GUIDE_FIELDS, strict=True):
            setattr(session, name, None if shares is None else shares[level])
        session.save(update_fields=list(GUIDE_FIELDS))
        CalibrationEvent.objects.create(
            session=session,
            action=CalibrationEvent.Action.GUIDE_SET,
            actor=by,
            details={"shares": None if shares is None else {str(k): v for k, v in shares.items()}},
        )


def close_session(*, session: CalibrationSession, by, note: str = "") -> None:
    """Open → closed: the final levels of every assessment in the subtree are locked."""
    with transaction.atomic():
        session = _lock_session(session)
        if not may_calibrate(by, session.org_unit):
            raise PermissionDenied
        _require_open(session)
        # Lock the subtree's assessments (in id order, as every multi-row locker here does):
        # an adjustment or a completion holding one finishes first, any later one sees "closed".
        list(
            Assessment.objects.select_for_update()
            .filter(cycle_id=session.cycle_id, org_unit__path__startswith=session.org_unit.path)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        session.status = CalibrationSession.Status.CLOSED
        session.closed_at = timezone.now()
        session.save(update_fields=["status", "closed_at"])
        CalibrationEvent.objects.create(
            session=session,
            action=CalibrationEvent.Action.CLOSED,
            actor=by,
            note=(note or "").strip()[:COMMENT_MAX],
        )


def reopen_session(*, session: CalibrationSession, by, reason: str) -> None:
    """Closed → open again, by HR only and with a reason (recorded)."""
    if not may_manage_guide_and_reopen(by):
        raise PermissionDenied
    reason = _check_reason(reason, _("重新开启校准时必须填写原因。"))
    with transaction.atomic():
        session = _lock_session(session)
        if session.is_open:
            raise CalibrationError(_("此校准尚未结束。"))
        session.status = CalibrationSession.Status.OPEN
        session.closed_at = None
        session.save(update_fields=["status", "closed_at"])
        CalibrationEvent.objects.create(
            session=session, action=CalibrationEvent.Action.REOPENED, actor=by, note=reason
        )


# --- adjusting a level --------------------------------------------------------------------------


def _lock_assessment(session: CalibrationSession, assessment: Assessment, revision):
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("cycle__model_version", "org_unit")
        .get(pk=assessment.pk)
    )
    if revision is not None and revision != locked.revision:
        raise StaleAssessment()
    if not session.includes(locked):
        raise CalibrationError(_("此评估不在本次校准范围内。"))
    return locked


def adjust_final_level(
    *,
    session: CalibrationSession,
    assessment: Assessment,
    category_code: str,
    level: int,
    reason: str,
    by,
    revision: int | None,
) -> CalibrationAdjustment:
    """Change one final level with a reason; re-classify the assessment; record from → to.

    The supervisor's level stays as it was; the T-shape class follows the new final levels
    under the cycle's model version thresholds.
    """
    level = _check_level(level)
    reason = _check_reason(reason, _("调整最终等级时必须填写原因。"))
    with transaction.atomic():
        session = _lock_session(session)
        _require_open(session)
        assessment = _lock_assessment(session, assessment, revision)
        if not may_adjust(by, session, assessment):
            raise PermissionDenied
        ensure_levels_unlocked(assessment)
        ratings = list(assessment.ratings.select_related("category"))
        rating = next((r for r in ratings if r.category.code == category_code), None)
        if rating is None:
            raise CalibrationError(_("未知的能力类别：%(code)s") % {"code": category_code})
        if rating.final_level == level:
            raise CalibrationError(_("新等级与当前最终等级相同，无需调整。"))
        before, shape_before = rating.final_level, assessment.classification
        rating.final_level = level
        rating.save(update_fields=["final_level"])
        result = classify(
            {r.category.code: r.final_level for r in ratings},
            assessment.industry_ratings.values_list("final_depth", flat=True),
            Thresholds.of(assessment.cycle.model_version),
        )
        assessment.classification = result.shape
        assessment.revision += 1
        assessment.save(update_fields=["classification", "revision"])
        return CalibrationAdjustment.objects.create(
            session=session,
            assessment=assessment,
            rating=rating,
            category=rating.category,
            supervisor_level=rating.supervisor_level,
            from_level=before,
            to_level=level,
            actor=by,
            note=reason,
            details={"classification": {"from": shape_before, "to": result.shape}},
        )
