"""HR's cycle pages: create, edit while draft, open, add people, close; form errors; access."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import Role
from assessments.forms import cycle as cycle_forms
from assessments.forms.cycle import CycleForm
from assessments.models import Assessment, Cycle
from competency.services import create_draft_from, publish_version

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def form_data(version, **overrides):
    data = {
        "name": "2027 上半年评估",
        "model_version": version.pk,
        "participant_units": [],
        "self_deadline": "2027-06-15",
        "review_deadline": "2027-06-30",
        "reminder_days": "3",
        "final_rule": "supervisor",
        "self_weight": "",
        "people_text": "",
    }
    data.update(overrides)
    return data


def cycle_urls(pk):
    return [
        ("get", reverse("assessments:cycle-list")),
        ("get", reverse("assessments:cycle-create")),
        ("get", reverse("assessments:cycle-detail", args=[pk])),
        ("get", reverse("assessments:cycle-edit", args=[pk])),
        ("post", reverse("assessments:cycle-create")),
        ("post", reverse("assessments:cycle-edit", args=[pk])),
        ("post", reverse("assessments:cycle-open", args=[pk])),
        ("post", reverse("assessments:cycle-close", args=[pk])),
        ("post", reverse("assessments:cycle-remind", args=[pk])),
        ("post", reverse("assessments:cycle-add-people", args=[pk])),
    ]


def test_hr_runs_a_cycle_from_creation_to_closing(client, personas, org, model_version):
    hr, outsider = personas["hr"], personas["outsider"]
    client.force_login(hr)
    data = form_data(model_version, participant_units=[org["C1"].pk])
    response = client.post(reverse("assessments:cycle-create"), data)
    cycle = Cycle.objects.get(name="2027 上半年评估")
    assert response.status_code == 302 and response.url == reverse(
        "assessments:cycle-detail", args=[cycle.pk]
    )
    assert cycle.status == Cycle.Status.DRAFT and cycle.created_by == hr
    assert list(cycle.participant_units.all()) == [org["C1"]]
    assert cycle.final_rule == "supervisor" and cycle.self_weight == Decimal("0.30")

    data.update(final_rule="weighted", self_weight="0.4", people_text=f"{outsider.employee_no}\n")
    response = client.post(reverse("assessments:cycle-edit", args=[cycle.pk]), data)
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.final_rule == "weighted" and cycle.self_weight == Decimal("0.40")
    assert list(cycle.participant_people.all()) == [outsider]
    detail = client.get(reverse("assessments:cycle-detail", args=[cycle.pk]))
    assert detail.context["participant_count"] == 4  # city head, supervisor, manager + outsider

    response = client.post(reverse("assessments:cycle-open", args=[cycle.pk]), follow=True)
    assert "已创建 4 份评估" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.OPEN and cycle.opened_at
    assert set(cycle.assessments.values_list("person__username", flat=True)) == {
        "cityhead",
        "supervisor",
        "manager",
        "outsider",
    }

    newcomer = UserFactory(username="newcomer", org_unit=org["B"], roles=[Role.MANAGER])
    response = client.post(
        reverse("assessments:cycle-add-people", args=[cycle.pk]), {"people": "newcomer"}
    )
    assert response.status_code == 302
    assert cycle.assessments.get(person=newcomer).status == Assessment.Status.NOT_STARTED

    response = client.post(reverse("assessments:cycle-close", args=[cycle.pk]), follow=True)
    assert "请先勾选确认框" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.OPEN
    response = client.post(
        reverse("assessments:cycle-close", args=[cycle.pk]), {"confirm": "1"}, follow=True
    )
    assert "5 份评估记为“未完成”" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.CLOSED and cycle.closed_at
    assert set(cycle.assessments.values_list("status", flat=True)) == {"not_completed"}


def test_the_form_offers_published_versions_only_and_defaults_to_the_latest(
    client, personas, model_version
):
    v2 = publish_version(
        version=create_draft_from(source=model_version, by=personas["admin"]), by=personas["admin"]
    )
    draft = create_draft_from(source=v2, by=personas["admin"])
    client.force_login(personas["hr"])
    form = client.get(reverse("assessments:cycle-create")).context["form"]
    assert form["model_version"].value() == v2.pk
    assert set(form.fields["model_version"].queryset) == {model_version, v2}
    response = client.post(
        reverse("assessments:cycle-create"), form_data(model_version, model_version=draft.pk)
    )
    assert response.status_code == 200 and not Cycle.objects.exists()
    assert response.context["form"].errors["model_version"]


def test_a_review_deadline_before_the_self_deadline_is_refused_keeping_the_input(
    client, personas, model_version, org
):
    client.force_login(personas["hr"])
    data = form_data(
        model_version,
        name="填错日期的周期",
        participant_units=[org["A"].pk],
        self_deadline="2027-06-30",
        review_deadline="2027-06-15",
    )
    response = client.post(reverse("assessments:cycle-create"), data)
    page = response.content.decode()
    assert response.status_code == 200 and not Cycle.objects.exists()
    assert "主管评价截止日期不能早于自评截止日期" in page
    assert 'value="填错日期的周期"' in page
    assert 'value="2027-06-30"' in page and 'value="2027-06-15"' in page
    assert re.search(rf'name="participant_units" value="{org["A"].pk}"[^>]*checked', page)


def test_the_weighted_rule_needs_a_sensible_weight(client, personas, model_version):
    client.force_login(personas["hr"])
    url = reverse("assessments:cycle-create")
    response = client.post(url, form_data(model_version, final_rule="weighted", self_weight=""))
    assert "选择加权规则时必须填写自评权重" in response.content.decode()
    assert re.search(r'value="weighted"[^>]*checked', response.content.decode())
    response = client.post(url, form_data(model_version, final_rule="weighted", self_weight="1"))
    assert "加权规则下自评权重必须大于 0 且小于 1" in response.content.decode()
    assert 'value="1"' in response.content.decode()
    response = client.post(url, form_data(model_version, final_rule="weighted", self_weight="1.5"))
    assert response.context["form"].errors["self_weight"]
    assert not Cycle.objects.exists()
    assert "2.5 → 3" in response.content.decode()  # the page explains the rounding


def test_unknown_employee_numbers_are_listed_and_nothing_is_saved(client, personas, model_version):
    client.force_login(personas["hr"])
    typed = f"{personas['manager'].employee_no}\nE999999\nnobody\n"
    response = client.post(
        reverse("assessments:cycle-create"), form_data(model_version, people_text=typed)
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Cycle.objects.exists()
    assert "找不到以下 2 个工号或用户名" in page and "E999999、nobody" in page
    assert typed.strip() in page  # the textarea keeps what was typed


def test_people_can_be_picked_from_a_list_and_by_username(client, personas, model_version):
    client.force_login(personas["hr"])
    data = form_data(
        model_version,
        picked_people=[personas["manager"].pk],
        people_text=f"outsider\n{personas['manager'].employee_no}",
    )
    client.post(reverse("assessments:cycle-create"), data)
    cycle = Cycle.objects.get()
    assert set(cycle.participant_people.values_list("username", flat=True)) == {
        "manager",
        "outsider",
    }
    form = client.get(reverse("assessments:cycle-edit", args=[cycle.pk])).context["form"]
    assert set(form["picked_people"].value()) == {personas["manager"].pk, personas["outsider"].pk}


def test_a_large_organisation_gets_the_list_of_numbers_instead_of_a_select(
    personas, draft_cycle, monkeypatch
):
    monkeypatch.setattr(cycle_forms, "PEOPLE_SELECT_LIMIT", 2)
    draft_cycle.participant_people.add(personas["outsider"])
    form = CycleForm(instance=draft_cycle, user=personas["hr"])
    assert "picked_people" not in form.fields
    assert form["people_text"].value() == personas["outsider"].employee_no


def test_editing_an_open_cycle_is_refused_and_its_model_version_never_changes(
    client, personas, open_cycle, model_version
):
    v2 = publish_version(
        version=create_draft_from(source=model_version, by=personas["admin"]), by=personas["admin"]
    )
    client.force_login(personas["hr"])
    url = reverse("assessments:cycle-edit", args=[open_cycle.pk])
    detail = reverse("assessments:cycle-detail", args=[open_cycle.pk])
    assert client.get(url).url == detail
    response = client.post(url, form_data(v2, name="改名"), follow=True)
    assert "只有草稿状态的评估周期可以修改设置" in response.content.decode()
    open_cycle.refresh_from_db()
    assert open_cycle.model_version == model_version and open_cycle.name == "2026 年度评估"
    for name in ["cycle-open", "cycle-close", "cycle-remind", "cycle-add-people"]:
        client.post(reverse(f"assessments:{name}", args=[open_cycle.pk]), {"model_version": v2.pk})
        assert Cycle.objects.get(pk=open_cycle.pk).model_version == model_version
    # The form itself does not offer the field for an open cycle, even if posted.
    form = CycleForm(form_data(v2), instance=open_cycle, user=personas["hr"])
    assert "model_version" not in form.fields
    assert form.is_valid(), form.errors
    form.save()
    assert Cycle.objects.get(pk=open_cycle.pk).model_version == model_version


def test_a_closed_cycle_takes_no_more_people(client, personas, open_cycle, org):
    client.force_login(personas["hr"])
    client.post(reverse("assessments:cycle-close", args=[open_cycle.pk]), {"confirm": "1"})
    late_comer = UserFactory(org_unit=org["A"], roles=[Role.MANAGER])
    response = client.post(
        reverse("assessments:cycle-add-people", args=[open_cycle.pk]),
        {"people": late_comer.username},
        follow=True,
    )
    assert "已结束的评估周期不能再添加人员" in response.content.decode()
    assert not open_cycle.assessments.filter(person=late_comer).exists()


def test_adding_unknown_people_keeps_the_input_and_adds_nobody(client, personas, open_cycle):
    client.force_login(personas["hr"])
    response = client.post(
        reverse("assessments:cycle-add-people", args=[open_cycle.pk]), {"people": "ghost"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "找不到以下 1 个工号或用户名" in page
    assert "ghost</textarea>" in page
    assert open_cycle.assessments.count() == 5


def test_opening_a_cycle_without_participants_says_why(client, personas, draft_cycle):
    draft_cycle.participant_units.clear()
    client.force_login(personas["hr"])
    response = client.post(reverse("assessments:cycle-open", args=[draft_cycle.pk]), follow=True)
    assert "该评估周期没有参与人员" in response.content.decode()
    assert Cycle.objects.get(pk=draft_cycle.pk).status == Cycle.Status.DRAFT


@pytest.mark.parametrize(
    "persona", ["supervisor", "city_head", "manager", "admin", "outsider", "outsider_supervisor"]
)
def test_only_hr_may_use_the_cycle_pages(client, personas, draft_cycle, persona):
    client.force_login(personas[persona])
    for method, url in cycle_urls(draft_cycle.pk):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert Cycle.objects.get(pk=draft_cycle.pk).status == Cycle.Status.DRAFT


def test_anonymous_visitors_are_sent_to_sign_in(client, draft_cycle):
    for method, url in cycle_urls(draft_cycle.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_post_only_actions_refuse_get(client, personas, draft_cycle):
    client.force_login(personas["hr"])
    for name in ["cycle-open", "cycle-close", "cycle-remind", "cycle-add-people"]:
        url = reverse(f"assessments:{name}", args=[draft_cycle.pk])
        assert client.get(url).status_code == 405


def test_the_list_shows_every_cycle_with_its_figures(client, personas, open_cycle, model_version):
    from .assessment_helpers import complete, submit

    assessment = submit(open_cycle.assessments.get(person=personas["manager"]))
    complete(assessment, personas["supervisor"])
    client.force_login(personas["hr"])
    response = client.get(reverse("assessments:cycle-list"))
    page = response.content.decode()
    row = page.split(f'data-cycle="{open_cycle.pk}"')[1].split("</tr>")[0]
    assert "2026 年度评估" in row and "进行中" in row and "2026-12-15" in row
    assert ">5<" in row and "1 / 5" in row
    assert reverse("assessments:cycle-create") in page
    cycle = response.context["cycles"][0]
    assert (cycle.assessment_count, cycle.completed_count) == (5, 1)


def test_the_list_takes_a_fixed_number_of_queries(client, personas, org, model_version, hr):
    from datetime import date

    from assessments.services import open_cycle

    def make_cycle(n):
        cycle = Cycle.objects.create(
            name=f"周期 {n}",
            model_version=model_version,
            self_deadline=date(2027, 1, 1),
            review_deadline=date(2027, 2, 1),
        )
        cycle.participant_units.add(org["P"])
        cycle.participant_people.add(personas["manager"])
        return cycle

    client.force_login(hr)
    make_cycle(0)
    client.get(reverse("assessments:cycle-list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("assessments:cycle-list"))
    for n in range(1, 6):
        cycle = make_cycle(n)
        if n % 2:
            open_cycle(cycle=cycle, by=hr)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("assessments:cycle-list"))
    assert len(response.context["cycles"]) == 6
    assert len(many) == len(few) <= 6
