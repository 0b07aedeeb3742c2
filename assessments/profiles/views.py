"""The profile dashboards: a person's T shape (their own, or a member's within scope), the
development plan, and the team picture of one cycle and one unit (HR: any unit)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import (
    ASSESSMENT_WIDE_ROLES,
    Capability,
    capability_required,
    chosen_or_404,
    people_scope,
    person_visibility_q,
)

from ..models import DevelopmentGoal
from . import charts, reports, services
from .forms import GoalCommentForm, GoalForm


def profile_people(user):
    """People whose profile ``user`` may open: self, the headed subtrees, everyone for HR."""
    return User.objects.filter(person_visibility_q(user, "", ASSESSMENT_WIDE_ROLES)).select_related(
        "org_unit"
    )


@login_required
def profile(request, person_id=None):
    """The signed-in person's own T shape and plan; with ``person_id``, someone else's for a head
    above them or HR (anyone else gets 404)."""
    if person_id is None:
        return _render_profile(request, request.user)
    return _render_profile(request, get_object_or_404(profile_people(request.user), pk=person_id))


def _render_profile(request, person):
    profile = reports.person_profile(person, language=get_language())
    is_self = person.pk == request.user.pk
    axes = profile.axes or reports.plan_axes(person)
    context = {
        "person": person,
        "profile": profile,
        "is_self": is_self,
        "goals": reports.development_plan(person, axes),
        "goal_form": GoalForm(axes=axes) if is_self else None,
        "comment_form": GoalCommentForm()
        if not is_self and services.may_comment(request.user, person)
        else None,
    }
    if profile.latest:
        context |= {
            "rows": profile.rows(),
            "radar": charts.radar(profile),
            "depth": charts.depth(profile),
            "history": charts.history(profile),
        }
    return render(request, "profiles/profile.html", context)


@login_required
@require_POST
def goal_add(request):
    """A new goal in the signed-in person's own plan."""
    form = GoalForm(request.POST, axes=reports.plan_axes(request.user))
    if not form.is_valid():
        return render(request, "profiles/goal_form.html", {"form": form}, status=400)
    form.instance.person = request.user
    form.save()
    messages.success(request, _("已添加发展目标。"))
    return redirect("profiles:mine")


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request, pk):
    """Edit one of the signed-in person's own goals (nobody else's: 404)."""
    goal = get_object_or_404(DevelopmentGoal.objects.filter(person=request.user), pk=pk)
    form = GoalForm(request.POST or None, instance=goal, axes=reports.plan_axes(request.user))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("发展目标已保存。"))
        return redirect("profiles:mine")
    return render(request, "profiles/goal_form.html", {"form": form, "goal": goal})


@login_required
@require_POST
def goal_comment(request, pk):
    """A supervisor of the goal's person adds a comment (403 for others who may see it)."""
    goals = DevelopmentGoal.objects.filter(person__in=profile_people(request.user))
    goal = get_object_or_404(goals.select_related("person"), pk=pk)
    if not services.may_comment(request.user, goal.person):
        raise PermissionDenied
    form = GoalCommentForm(request.POST)
    if form.is_valid():
        services.comment_on_goal(goal=goal, by=request.user, text=form.cleaned_data["note"])
        messages.success(request, _("评语已添加。"))
    else:
        messages.error(
            request, _("评语不能为空，且不超过 %(n)d 个字。") % {"n": services.COMMENT_MAX}
        )
    return redirect(reverse("profiles:person", args=[goal.person_id]) + f"#goal-{goal.pk}")


def _picked(rows: list, value):
    """The row of ``rows`` named by a query parameter (404 when named but absent), else the first."""
    if value in (None, ""):
        return rows[0] if rows else None
    found = next((r for r in rows if str(r.pk) == value), None)
    if found is None:
        raise Http404
    return found


def _dashboard_unit(request, roots):
    """The unit asked for (404 outside the user's scope), else the first of the user's roots."""
    unit = chosen_or_404(reports.dashboard_units(request.user), request.GET.get("unit"))
    if unit is None and not roots:
        raise Http404  # an organisation without units
    return unit or roots[0]


@capability_required(Capability.VIEW_TEAM)
def team_dashboard(request):
    """The team picture for a chosen cycle and unit in the user's scope (HR: any unit)."""
    scope = people_scope(request.user, ASSESSMENT_WIDE_ROLES)
    if not scope.everyone and not scope.units:
        raise PermissionDenied  # heads nothing: the admin role does not read appraisals
    roots = reports.dashboard_roots(request.user)
    unit = _dashboard_unit(request, roots)
    cycles = list(reports.dashboard_cycles().select_related("model_version"))
    cycle = _picked(cycles, request.GET.get("cycle"))
    context = {"unit": unit, "roots": roots, "cycle": cycle, "cycles": cycles}
    context["trail"] = _trail(request.user, unit)
    if cycle is not None:
        report = reports.team_report(
            cycle=cycle, unit=unit, user=request.user, page=request.GET.get("page")
        )
        context |= {
            "report": report,
            "shapes_chart": charts.shapes(report),
            "means_chart": charts.means(report),
            "heatmap_chart": charts.heatmap(report),
        }
    return render(request, "profiles/team.html", context)


def _trail(user, unit) -> list:
    """The unit's ancestors the user may open, root first, then the unit (one query)."""
    scope = people_scope(user, ASSESSMENT_WIDE_ROLES)
    allowed = [
        a
        for a in unit.ancestors()
        if scope.everyone or any(a.path.startswith(u.path) for u in scope.units)
    ]
    return [*allowed, unit]
