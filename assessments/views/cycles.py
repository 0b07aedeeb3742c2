"""HR's pages for assessment cycles: list, create and edit while draft, progress, and the actions
open / close / remind / add people, each a call into ``services`` (or a queued task)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import OrgUnit
from accounts.permissions import Capability, capability_required

from .. import reports, services, tasks
from ..forms.cycle import AddPeopleForm, CycleForm
from ..models import Cycle

manage_cycles = capability_required(Capability.MANAGE_CYCLES)
LATE_PAGE_SIZE = 25


def _get_cycle(pk, *, lock: bool = False) -> Cycle:
    cycles = Cycle.objects.select_for_update(of=("self",)) if lock else Cycle.objects
    return get_object_or_404(cycles.select_related("model_version", "created_by"), pk=pk)


def _to_detail(cycle):
    return redirect("assessments:cycle-detail", cycle.pk)


@manage_cycles
def cycle_list(request):
    """Every cycle with its status, model version, deadlines, participants and completion."""
    return render(request, "assessments/cycle_list.html", {"cycles": reports.cycle_overview()})


@manage_cycles
def cycle_create(request):
    """A new cycle, created as a draft by the signed-in HR person."""
    form = CycleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.instance.created_by = request.user
        with transaction.atomic():
            cycle = form.save()
        messages.success(request, _("评估周期“%(name)s”已创建（草稿）。") % {"name": cycle.name})
        return _to_detail(cycle)
    return render(request, "assessments/cycle_form.html", {"form": form})


@manage_cycles
def cycle_edit(request, pk):
    """The settings of a draft cycle; an open or closed cycle is sent back to its page."""
    with transaction.atomic():
        # Locked so that opening the cycle meanwhile cannot slip between the check and the save.
        cycle = _get_cycle(pk, lock=request.method == "POST")
        if cycle.status != Cycle.Status.DRAFT:
            messages.warning(request, _("只有草稿状态的评估周期可以修改设置。"))
            return _to_detail(cycle)
        form = CycleForm(request.POST or None, instance=cycle, user=request.user)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("设置已保存。"))
            return _to_detail(cycle)
    return render(request, "assessments/cycle_form.html", {"form": form, "cycle": cycle})


@manage_cycles
def cycle_detail(request, pk):
    """The cycle's settings, the actions its state allows, progress per unit and who is late."""
    return _render_detail(request, _get_cycle(pk), AddPeopleForm(user=request.user))


def _filter_unit(request):
    unit_id = request.GET.get("unit", "")
    if not unit_id.isdigit():
        return None
    return OrgUnit.objects.visible_to(request.user).filter(pk=unit_id).first()


def _render_detail(request, cycle, add_form):
    rows = reports.cycle_progress(cycle)
    unit = _filter_unit(request)
    late = reports.late_assessments(cycle, unit)
    context = {
        "cycle": cycle,
        "rows": rows,
        "total": reports.progress_total(rows),
        "status_labels": [status.label for status in reports.PROGRESS_STATUSES],
        "units": cycle.participant_units.all(),
        "people": cycle.participant_people.select_related("org_unit"),
        "late_page": Paginator(late, LATE_PAGE_SIZE).get_page(request.GET.get("page")),
        "late_unit": unit,
        "add_form": add_form,
    }
    if cycle.status == Cycle.Status.DRAFT:
        context["participant_count"] = services.participants_of(cycle).count()
    return render(request, "assessments/cycle_detail.html", context)


@manage_cycles
@require_POST
def cycle_open(request, pk):
    """Draft → open: one assessment per participant."""
    cycle = _get_cycle(pk)
    try:
        created = services.open_cycle(cycle=cycle, by=request.user)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "评估周期已开始，已创建 %(n)d 份评估。",
                "评估周期已开始，已创建 %(n)d 份评估。",
                created,
            )
            % {"n": created},
        )
    return _to_detail(cycle)


@manage_cycles
@require_POST
def cycle_close(request, pk):
    """Open → closed, only after the confirmation box is ticked."""
    cycle = _get_cycle(pk)
    if not request.POST.get("confirm"):
        messages.error(request, _("请先勾选确认框，再结束评估周期。"))
        return _to_detail(cycle)
    try:
        expired = services.close_cycle(cycle=cycle, by=request.user)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "评估周期已结束，%(n)d 份评估记为“未完成”。",
                "评估周期已结束，%(n)d 份评估记为“未完成”。",
                expired,
            )
            % {"n": expired},
        )
    return _to_detail(cycle)


@manage_cycles
@require_POST
def cycle_remind(request, pk):
    """Queue reminder e-mails to whoever is late (self phase: the person; review: the supervisor)."""
    cycle = _get_cycle(pk)
    if cycle.status != Cycle.Status.OPEN:
        messages.error(request, _("只有进行中的评估周期可以发送提醒。"))
        return _to_detail(cycle)
    late = reports.late_counts(cycle)
    if not late["late_self"] and not late["late_review"]:
        messages.info(request, _("目前没有逾期的评估，未发送提醒。"))
        return _to_detail(cycle)
    transaction.on_commit(lambda: tasks.send_late_reminders.delay(cycle.pk))
    messages.success(
        request,
        _(
            "已安排发送提醒：%(late_self)d 人自评逾期（提醒本人），%(late_review)d 份评估的主管评价逾期（提醒其主管）。"
        )
        % late,
    )
    return _to_detail(cycle)


@manage_cycles
@require_POST
def cycle_add_people(request, pk):
    """Add people by employee number or username; in an open cycle they get their assessment."""
    cycle = _get_cycle(pk)
    form = AddPeopleForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_detail(request, cycle, form)
    people = form.cleaned_data["people"]
    try:
        created = services.add_participants(cycle=cycle, people=people, by=request.user)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return _to_detail(cycle)
    message = _("已添加 %(n)d 人。") % {"n": len(people)}
    if cycle.status == Cycle.Status.OPEN:
        message += " " + _("新建了 %(n)d 份评估（已有评估的人员不会重复创建）。") % {"n": created}
    messages.success(request, message)
    return _to_detail(cycle)
