"""The certification API: applying, the supervisor's and HR's decisions with their records,
certificates (PDF, revoke), filters, fixed query counts, and the rule that nobody sets a grade,
a status or an approval through a request body."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.permissions import Role
from assessments.models import (
    Assessment,
    Certificate,
    CertificationApplication,
    CertificationEvent,
)
from assessments.services import add_participants

from .factories import UserFactory
from .test_api_support import (
    apply_for,
    approve,
    client_for,
    completed_in,
    error_of,
    ids,
    results_cycle,
    url,
)

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

Status = CertificationApplication.Status


@pytest.fixture
def results(world):
    """``world`` plus a second cycle in which the manager, the colleague (by the supervisor) and
    the outsider (by the outsider's supervisor) are completed at level 3 (eligible for G4)."""
    people = world["personas"]
    cycle = results_cycle(world)
    done = {
        "manager": completed_in(cycle, people["manager"], people["supervisor"]),
        "colleague": completed_in(cycle, world["colleague"], people["supervisor"]),
        "outsider": completed_in(cycle, people["outsider"], people["outsider_supervisor"]),
    }
    return {**world, "results": cycle, "done": done}


def as_(world, role, language=None):
    return client_for(world["personas"][role], language)


def post(client, name, *args, body=None):
    return client.post(url(name, *args), body or {}, format="json")


def snapshot():
    return (
        sorted(
            CertificationApplication.objects.values_list(
                "pk", "status", "grade__code", "eligible_grade__code", "person_id"
            )
        ),
        sorted(Certificate.objects.values_list("pk", "status", "grade__code")),
        CertificationEvent.objects.count(),
    )


# --- the workflow ---------------------------------------------------------------------------------


def test_apply_approve_confirm_records_every_decision(results):
    manager, supervisor, hr = (as_(results, r) for r in ("manager", "supervisor", "hr"))
    body = {"assessment": results["done"]["manager"].pk, "grade": "G4", "note": "申请四级"}
    applied = post(manager, "application-list", body=body)
    assert applied.status_code == 201, applied.content
    application = applied.json()
    assert (application["status"], application["grade"]) == (Status.SUPERVISOR_PENDING, "G4")
    assert application["eligible_grade"] == "G4" and application["certificate"] is None
    assert application["check"]["met"] is True
    pk = application["id"]

    approved = post(supervisor, "application-approve", pk, body={"note": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == Status.HR_PENDING
    confirmed = post(hr, "application-confirm", pk)
    assert confirmed.status_code == 200, confirmed.content
    final = confirmed.json()
    assert final["status"] == Status.CONFIRMED and final["certificate"]

    events = [(e["action"], e["actor"], e["note"]) for e in final["events"]]
    people = results["personas"]
    assert events == [
        ("applied", people["manager"].pk, "申请四级"),
        ("approved", people["supervisor"].pk, "同意"),
        ("confirmed", people["hr"].pk, ""),
    ]
    assert CertificationEvent.objects.filter(application_id=pk).count() == 3
    certificate = manager.get(url("certificate-detail", final["certificate"])).json()
    assert (certificate["grade"], certificate["state"]) == ("G4", "valid")
    assert [e["action"] for e in certificate["events"]] == ["applied", "approved", "confirmed"]
    assert ids(manager.get(url("certificate-list"))) == {final["certificate"]}


def test_reject_needs_a_reason_and_keeps_it(results):
    application = apply_for(results["results"], results["personas"]["manager"], "G4")
    supervisor = as_(results, "supervisor")
    for body in ({}, {"reason": "   "}):
        response = post(supervisor, "application-reject", application.pk, body=body)
        assert response.status_code == 400
        assert "reason" in error_of(response)["fields"]
    rejected = post(supervisor, "application-reject", application.pk, body={"reason": "经验不足"})
    assert rejected.status_code == 200 and rejected.json()["status"] == Status.REJECTED
    assert rejected.json()["events"][-1]["action"] == "rejected"
    assert rejected.json()["events"][-1]["note"] == "经验不足"
    # The applicant may apply again after a rejection.
    again = {"assessment": results["done"]["manager"].pk, "grade": "G3"}
    assert post(as_(results, "manager"), "application-list", body=again).status_code == 201


def test_hr_sends_back_to_the_supervisor_with_a_reason(results):
    people = results["personas"]
    application = approve(
        apply_for(results["results"], people["manager"], "G4"), people["supervisor"]
    )
    response = post(
        as_(results, "hr"), "application-send-back", application.pk, body={"reason": "材料不全"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == Status.SUPERVISOR_PENDING
    assert response.json()["events"][-1]["action"] == "sent_back"
    assert (
        post(as_(results, "supervisor"), "application-approve", application.pk).status_code == 200
    )


def test_hr_applies_in_bulk_for_everyone_eligible(results):
    apply_for(results["results"], results["personas"]["manager"], "G3")
    response = post(as_(results, "hr"), "application-bulk", body={"cycle": results["results"].pk})
    assert response.status_code == 200
    assert response.json() == {"count": 2}  # the colleague and the outsider; the manager has one
    assert set(
        CertificationApplication.objects.filter(cycle=results["results"]).values_list(
            "person__username", "grade__code"
        )
    ) == {("manager", "G3"), ("colleague", "G4"), ("outsider", "G4")}
    draft = post(as_(results, "hr"), "application-bulk", body={"cycle": 999999})
    assert draft.status_code == 400 and "cycle" in error_of(draft)["fields"]


# --- field-level rules ----------------------------------------------------------------------------


def test_a_manager_can_never_set_a_grade_or_an_approval(results):
    manager, supervisor = as_(results, "manager"), as_(results, "supervisor")
    own = results["done"]["manager"].pk
    before = snapshot()
    forged = {
        "assessment": own,
        "grade": "G4",
        "status": Status.CONFIRMED,
        "eligible_grade": "G5",
        "person": results["personas"]["outsider"].pk,
        "raised_by": results["personas"]["hr"].pk,
        "certificate": 1,
    }
    response = post(manager, "application-list", body=forged)
    assert response.status_code == 400
    assert {"status", "eligible_grade", "person", "raised_by", "certificate"} <= set(
        error_of(response)["fields"]
    )
    above = post(manager, "application-list", body={"assessment": own, "grade": "G5"})
    assert above.status_code == 400 and "grade" in error_of(above)["fields"]
    assert snapshot() == before

    pk = post(manager, "application-list", body={"assessment": own, "grade": "G3"}).json()["id"]
    before = snapshot()
    detail = url("application-detail", pk)
    for method in ("put", "patch", "delete"):
        answer = getattr(manager, method)(detail, {"status": Status.CONFIRMED}, format="json")
        assert answer.status_code == 405, method
    for step in ("application-approve", "application-confirm"):
        assert post(manager, step, pk).status_code == 403
    sneaky = post(supervisor, "application-approve", pk, body={"note": "", "grade": "G5"})
    assert sneaky.status_code == 400 and "grade" in error_of(sneaky)["fields"]
    assert snapshot() == before


def test_nobody_decides_on_their_own_application(results):
    people, cycle = results["personas"], results["results"]
    completed_in(cycle, people["supervisor"], people["city_head"])
    own = apply_for(cycle, people["supervisor"], "G4")
    hr_member = UserFactory(username="hr_in_a", org_unit=results["org"]["A"], roles=[Role.HR])
    add_participants(cycle=cycle, people=[hr_member], by=people["hr"])
    completed_in(cycle, hr_member, people["supervisor"])
    hr_own = approve(apply_for(cycle, hr_member, "G4"), people["supervisor"])
    before = snapshot()
    assert post(as_(results, "supervisor"), "application-approve", own.pk).status_code == 404
    response = post(client_for(hr_member), "application-confirm", hr_own.pk)
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert snapshot() == before


# --- certificates ---------------------------------------------------------------------------------


@pytest.fixture
def certified(results):
    people = results["personas"]
    application = approve(
        apply_for(results["results"], people["manager"], "G4"), people["supervisor"]
    )
    response = post(as_(results, "hr"), "application-confirm", application.pk)
    return Certificate.objects.get(pk=response.json()["certificate"])


def test_the_certificate_pdf_is_a_download_whatever_accept_says(results, certified):
    manager = as_(results, "manager")
    for accept in ("application/pdf", "application/json", "*/*"):
        response = manager.get(url("certificate-pdf", certified.pk), HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response.content.startswith(b"%PDF")
    hidden = as_(results, "outsider").get(
        url("certificate-pdf", certified.pk), HTTP_ACCEPT="application/pdf"
    )
    assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"


def test_hr_revokes_with_a_reason_once(results, certified):
    hr = as_(results, "hr")
    assert post(hr, "certificate-revoke", certified.pk).status_code == 400
    revoked = post(hr, "certificate-revoke", certified.pk, body={"reason": "材料不实"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert revoked.json()["events"][-1]["action"] == "revoked"
    again = {"reason": "再次撤销"}
    zh = post(as_(results, "hr", "zh-hans"), "certificate-revoke", certified.pk, body=again)
    en = post(as_(results, "hr", "en"), "certificate-revoke", certified.pk, body=again)
    assert zh.status_code == en.status_code == 409
    assert error_of(zh) == {"code": "conflict", "message": "此证书已被撤销。", "fields": {}}
    assert error_of(en)["message"] == "This certificate has already been revoked."
    own = post(as_(results, "manager"), "certificate-revoke", certified.pk, body=again)
    assert own.status_code == 403


def test_errors_are_translated(results):
    manager = results["done"]["manager"].pk
    for language, denied, invalid in [
        ("zh-hans", "您没有执行此操作的权限。", "提交的数据有误，请更正标出的字段。"),
        (
            "en",
            "You do not have permission to do this.",
            "The data sent is invalid; please correct the fields listed.",
        ),
    ]:
        hr = as_(results, "hr", language)
        assert (
            error_of(post(hr, "application-list", body={"assessment": manager, "grade": "G4"}))[
                "message"
            ]
            == denied
        )
        response = post(
            as_(results, "manager", language), "application-list", body={"grade": "G4", "x": 1}
        )
        error = error_of(response)
        assert (response.status_code, error["code"], error["message"]) == (400, "invalid", invalid)
        assert set(error["fields"]) == {"x"}


# --- lists ----------------------------------------------------------------------------------------


def test_application_filters(results):
    people, cycle = results["personas"], results["results"]
    waiting = apply_for(cycle, people["manager"], "G4")
    colleague = approve(apply_for(cycle, results["colleague"], "G4"), people["supervisor"])
    outsider = apply_for(cycle, people["outsider"], "G4")
    hr, supervisor = as_(results, "hr"), as_(results, "supervisor")

    def found(client, **params):
        return ids(client.get(url("application-list"), params))

    assert found(hr, status=Status.HR_PENDING) == {colleague.pk}
    assert found(hr, within=results["org"]["B"].pk) == {outsider.pk}
    assert found(hr, person=people["manager"].pk) == {waiting.pk}
    assert found(hr, grade="G4", cycle=cycle.pk) == {waiting.pk, colleague.pk, outsider.pk}
    assert found(hr, queue="confirmation") == {colleague.pk}
    assert found(supervisor, queue="approval") == {waiting.pk}
    assert found(supervisor, within=results["org"]["B"].pk) == set()
    bad = hr.get(url("application-list"), {"queue": "mine", "cycle": "x"})
    assert bad.status_code == 400 and {"queue", "cycle"} <= set(error_of(bad)["fields"])
    assert found(hr, ordering="-created_at") == found(hr)


def test_certificate_filters(results, certified):
    hr = as_(results, "hr")
    certificates = url("certificate-list")
    assert ids(hr.get(certificates, {"state": "valid", "grade": "G4"})) == {certified.pk}
    assert ids(hr.get(certificates, {"state": "revoked"})) == set()
    assert ids(hr.get(certificates, {"number": certified.number[-4:]})) == {certified.pk}
    assert ids(hr.get(certificates, {"valid_to": "2000-01-01"})) == set()
    assert ids(hr.get(certificates, {"within": results["org"]["B"].pk})) == set()
    holder = certified.person
    for text in (certified.holder_name[-2:], holder.employee_no, certified.number[:8]):
        assert ids(hr.get(certificates, {"q": text})) == {certified.pk}, text
    assert ids(hr.get(certificates, {"q": "无此人"})) == set()
    outsider = as_(results, "outsider")  # a search never widens what one may see
    assert ids(outsider.get(certificates, {"q": certified.number[:8]})) == set()


def _queries(client, name) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(name), {"page_size": 200})
        assert response.status_code == 200
    return len(queries)


def test_list_query_counts_do_not_grow_with_rows(results):
    people, cycle, hr = results["personas"], results["results"], as_(results, "hr")
    application = approve(apply_for(cycle, people["manager"], "G4"), people["supervisor"])
    post(hr, "application-confirm", application.pk)
    before = {name: _queries(hr, name) for name in ("application-list", "certificate-list")}
    for person in (results["colleague"], people["outsider"]):
        supervisor = people[
            "supervisor" if person.org_unit == results["org"]["A"] else "outsider_supervisor"
        ]
        done = approve(apply_for(cycle, person, "G4"), supervisor)
        post(hr, "application-confirm", done.pk)
    assert CertificationApplication.objects.count() == 3 == Certificate.objects.count()
    after = {name: _queries(hr, name) for name in ("application-list", "certificate-list")}
    assert after == before
    assert Assessment.objects.filter(cycle=cycle, status="completed").count() == 3
