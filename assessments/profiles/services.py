"""Workflows of the development plan: the supervisor's comments on a person's goals."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import supervised_q

from ..models import DevelopmentGoal, GoalComment

COMMENT_MAX = 2000


class PlanError(Exception):
    """A change the development plan refuses; the message is translated and shown as it is."""


def may_comment(user, person) -> bool:
    """Only the person's supervisors (the heads above them, never themself) comment on goals."""
    return User.objects.filter(pk=person.pk).filter(supervised_q(user)).exists()


def comment_on_goal(*, goal: DevelopmentGoal, by, text: str) -> GoalComment:
    """Append a supervisor's comment to a goal; comments are records, never edited or deleted."""
    text = (text or "").strip()
    if not text or len(text) > COMMENT_MAX:
        raise PlanError(_("评语不能为空，且不超过 %(n)d 个字。") % {"n": COMMENT_MAX})
    if not may_comment(by, goal.person):
        raise PermissionDenied
    with transaction.atomic():
        return GoalComment.objects.create(goal=goal, actor=by, note=text)
