"""The certification pages: the manager's page, applying, the queues, the decisions through the
forms, certificates, and the public verification page (name, grade, validity, nothing else)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.certification import services
from assessments.models import Certificate, CertificationApplication

from .test_certification_fixtures import (
    apply,
    approved,
    certified,
    complete_with,
    completed_fixture,  # noqa: F401 - the "completed" fixture
    mine,
)

pytestmark = pytest.mark.django_db
Status = CertificationApplication.Status


def page(client, user, name, *args, **params):
    client.force_login(user)
    response = client.get(reverse(f"certification:{name}", args=args), params)
    assert response.status_code == 200
    return response.content.decode()


# --- the manager's page -------------------------------------------------------------------------


def test_without_a_completed_assessment_the_page_says_so(client, open_cycle, personas):
    html = page(client, personas["manager"], "my-overview")
    assert 'id="no-assessment"' in html and 'id="apply-form"' not in html


def test_the_page_shows_eligibility_what_is_missing_and_the_apply_form(
    client, open_cycle, personas
):
    complete_with(mine(open_cycle, personas["manager"]), personas["supervisor"], levels={"1.3": 2})
    html = page(client, personas["manager"], "my-overview")
    assert "G2 二级客户经理" in html
    assert "1.3 IT知识：需达到 3 级（当前 2 级，差 1 级）" in html
    assert 'id="apply-form"' in html
    assert '<option value="G2">' in html and '<option value="G1">' in html
    assert 'value="G3"' not in html
    assert 'id="no-certificate"' in html


def test_applying_through_the_form(client, open_cycle, personas, completed):
    client.force_login(personas["manager"])
    url = reverse("certification:application-create", args=[completed.pk])
    response = client.post(url, {"grade": "G4", "note": "申请四级"})
    assert response.status_code == 302
    application = CertificationApplication.objects.get()
    assert (application.grade.code, application.status) == ("G4", Status.SUPERVISOR_PENDING)
    html = client.get(reverse("certification:my-overview")).content.decode()
    assert 'id="open-application"' in html and 'id="apply-form"' not in html
    assert "申请四级" in html  # the history shows the decision records
    # a grade above the eligible one is not a choice
    response = client.post(url, {"grade": "G5"})
    assert response.status_code in {400, 409}
    assert CertificationApplication.objects.count() == 1


def test_the_certificate_leads_the_page_once_confirmed(client, open_cycle, personas, completed):
    certificate = certified(open_cycle, personas["manager"], personas["supervisor"], personas["hr"])
    html = page(client, personas["manager"], "my-overview")
    assert certificate.number in html
    assert reverse("certification:certificate-pdf", args=[certificate.pk]) in html
    # G4 is held from this assessment, and nothing above it is within reach: no form
    assert 'id="already-held"' in html and 'id="apply-form"' not in html


# --- queues and decisions -----------------------------------------------------------------------


def test_the_approval_queue_lists_only_supervised_people(client, open_cycle, personas, completed):
    complete_with(mine(open_cycle, personas["outsider"]), personas["outsider_supervisor"])
    complete_with(mine(open_cycle, personas["supervisor"]), personas["city_head"])
    mine_app = apply(open_cycle, personas["manager"])
    apply(open_cycle, personas["outsider"])
    own = apply(open_cycle, personas["supervisor"])
    client.force_login(personas["supervisor"])
    response = client.get(reverse("certification:approval-list"))
    assert [a.pk for a in response.context["page"].object_list] == [mine_app.pk]
    client.force_login(personas["city_head"])
    response = client.get(reverse("certification:approval-list"))
    assert {a.pk for a in response.context["page"].object_list} == {mine_app.pk, own.pk}


def test_rejecting_through_the_form_needs_a_reason(client, open_cycle, personas, completed):
    application = apply(open_cycle, personas["manager"])
    client.force_login(personas["supervisor"])
    url = reverse("certification:application-reject", args=[application.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "请填写原因" in response.content.decode()
    response = client.post(url, {"reason": "项目经验不足"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.REJECTED


def test_a_decision_already_taken_is_reported(client, open_cycle, personas, completed):
    application = apply(open_cycle, personas["manager"])
    services.approve_application(application=application, by=personas["city_head"])
    client.force_login(personas["supervisor"])
    response = client.post(reverse("certification:application-approve", args=[application.pk]))
    assert response.status_code == 409
    assert "已被处理" in response.content.decode()


def test_the_confirmation_queue_shows_who_approved(client, open_cycle, personas, completed):
    approved(open_cycle, personas["manager"], personas["supervisor"])
    html = page(client, personas["hr"], "confirmation-list")
    assert str(personas["supervisor"]) in html and 'data-person="manager"' in html


def test_the_application_page_compares_levels_with_the_grade(client, open_cycle, personas):
    complete_with(mine(open_cycle, personas["manager"]), personas["supervisor"], levels={"1.3": 2})
    application = apply(open_cycle, personas["manager"], "G2")
    html = page(client, personas["supervisor"], "application-detail", application.pk)
    assert 'id="approve-form"' in html and 'id="confirm-form"' not in html
    assert "达到要求" in html
    html = page(client, personas["manager"], "application-detail", application.pk)
    assert 'id="approve-form"' not in html


def test_bulk_applications_through_the_page(client, open_cycle, personas, completed):
    client.force_login(personas["hr"])
    url = reverse("certification:application-bulk-create")
    assert client.post(url, {"cycle": ""}).status_code == 400
    response = client.post(url, {"cycle": open_cycle.pk})
    assert response.status_code == 302
    assert CertificationApplication.objects.get().raised_by == personas["hr"]


def test_revoking_through_the_form(client, open_cycle, personas, completed):
    certificate = certified(open_cycle, personas["manager"], personas["supervisor"], personas["hr"])
    client.force_login(personas["hr"])
    url = reverse("certification:certificate-revoke", args=[certificate.pk])
    assert client.post(url, {"reason": " "}).status_code == 400
    assert client.post(url, {"reason": "材料不实"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    html = page(client, personas["hr"], "certificate-detail", certificate.pk)
    assert "材料不实" in html and 'id="revoke-form"' not in html


# --- public verification ------------------------------------------------------------------------


@pytest.fixture
def certificate(open_cycle, personas, completed):
    manager = personas["manager"]
    manager.display_name = "周婷"
    manager.username = "zt20260427"
    manager.phone = "13800138000"
    manager.save()
    return certified(open_cycle, manager, personas["supervisor"], personas["hr"])


def test_verification_shows_only_name_grade_and_validity(client, certificate, personas, org):
    response = client.get(reverse("certification:certificate-verify", args=[certificate.number]))
    assert response.status_code == 200
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert "周婷" in main and "四级客户经理" in main and "Grade 4 account manager" in main
    assert "有效" in main and certificate.valid_until.isoformat() in main
    manager = personas["manager"]
    for secret in [
        manager.username,
        manager.email,
        manager.employee_no,
        manager.phone,
        org["A"].name_zh,
        org["C1"].name_zh,
        certificate.application.cycle.name,
        certificate.issued_on.isoformat(),
        str(personas["supervisor"]),
        str(personas["hr"]),
    ]:
        assert secret not in html, secret
    assert set(response.context.keys()) >= {"certificate", "state"}
    assert response["X-Robots-Tag"] == "noindex"


def test_verification_says_revoked_and_expired(client, certificate, personas):
    url = reverse("certification:certificate-verify", args=[certificate.number])
    Certificate.objects.filter(pk=certificate.pk).update(
        issued_on=timezone.localdate() - timedelta(days=800),
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    assert "已过期" in client.get(url).content.decode()
    services.revoke_certificate(certificate=certificate, by=personas["hr"], reason="材料不实")
    html = client.get(url).content.decode()
    assert "已撤销" in html and "材料不实" not in html


def test_an_unknown_number_is_a_404_page_and_typing_is_forgiving(client, certificate):
    response = client.get(reverse("certification:certificate-verify", args=["TS-2026-NOPE"]))
    assert response.status_code == 404
    assert "未找到" in response.content.decode()
    response = client.get(
        reverse("certification:certificate-lookup"), {"number": f"  {certificate.number.lower()} "}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "certification:certificate-verify", args=[certificate.number]
    )
