"""Certification workflows: eligibility from real final levels, apply, approve / reject, confirm /
send back, revoke, bulk applications, certificate numbers, and who may decide what."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from accounts.audit import AuditRecordImmutable
from accounts.permissions import Role
from assessments.certification import selectors, services
from assessments.certification.services import CertificationError
from assessments.models import (
    Certificate,
    CertificationApplication,
    CertificationEvent,
)
from assessments.models.certification import add_months, normalize_certificate_number
from assessments.services import add_participants

from .factories import UserFactory
from .test_certification_fixtures import (
    apply,
    approved,
    certified,
    complete_with,
    completed_fixture,  # noqa: F401 - the "completed" fixture
    mine,
)

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^TS-\d{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")
Status = CertificationApplication.Status
Action = CertificationEvent.Action


def actions(application):
    return list(application.events.order_by("at", "pk").values_list("action", flat=True))


# --- eligibility --------------------------------------------------------------------------------


def test_eligibility_reads_the_final_levels_and_says_what_the_next_grade_misses(
    open_cycle, personas
):
    assessment = complete_with(
        mine(open_cycle, personas["manager"]), personas["supervisor"], levels={"1.3": 2}
    )
    report = selectors.eligibility_report(assessment)
    assert report.eligible.code == "G2"
    assert [g.code for g in report.applicable] == ["G1", "G2"]
    assert report.next_check.grade.code == "G3"
    assert report.missing == ["1.3 IT知识：需达到 3 级（当前 2 级，差 1 级）"]


def test_the_top_of_the_ladder_names_breadth_and_depth(completed):
    report = selectors.eligibility_report(completed)
    assert report.eligible.code == "G4"
    assert report.next_check.grade.code == "G5"
    assert report.missing == [
        "还需 8 个类别达到 4 级及以上",
        "行业研究深度需在 1 个行业达到 5（当前最佳 4）",
    ]


def test_bulk_eligibility_agrees_with_the_single_one(open_cycle, personas, completed):
    low = complete_with(
        mine(open_cycle, personas["supervisor"]), personas["city_head"], default=2, depth=2
    )
    by_assessment = selectors.cycle_eligibility(open_cycle)
    assert by_assessment[completed.pk].code == "G4"
    assert by_assessment[low.pk].code == "G2"
    assert set(by_assessment) == {completed.pk, low.pk}


# --- applying -----------------------------------------------------------------------------------


def test_a_manager_applies_up_to_the_eligible_grade(open_cycle, personas, completed):
    manager = personas["manager"]
    application = apply(open_cycle, manager, "G3", note="希望先认证三级")
    assert application.status == Status.SUPERVISOR_PENDING
    assert (application.grade.code, application.eligible_grade.code) == ("G3", "G4")
    assert application.raised_by == manager and application.cycle == open_cycle
    event = application.events.get()
    assert (event.action, event.actor, event.note) == (Action.APPLIED, manager, "希望先认证三级")


def test_applying_above_the_eligible_grade_is_refused(open_cycle, personas, completed):
    with pytest.raises(CertificationError, match="尚未达到"):
        apply(open_cycle, personas["manager"], "G5")
    assert not CertificationApplication.objects.exists()


def test_one_open_application_per_person_and_cycle(open_cycle, personas, completed):
    first = apply(open_cycle, personas["manager"], "G4")
    with pytest.raises(CertificationError, match="进行中"):
        apply(open_cycle, personas["manager"], "G3")
    # the database says so too, whatever the path
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificationApplication.objects.create(
            person=first.person,
            cycle=first.cycle,
            assessment=first.assessment,
            grade=first.grade,
            raised_by=first.person,
        )
    assert CertificationApplication.objects.count() == 1


def test_nobody_applies_with_someone_elses_assessment(open_cycle, personas, completed):
    with pytest.raises(PermissionDenied):
        services.apply_for_certification(
            assessment=completed, grade_code="G1", by=personas["supervisor"]
        )


def test_an_unfinished_assessment_cannot_back_an_application(open_cycle, personas):
    with pytest.raises(CertificationError, match="最近一次已完成"):
        apply(open_cycle, personas["manager"], "G1")


# --- the approval chain -------------------------------------------------------------------------


def test_apply_approve_confirm_issues_a_certificate(open_cycle, personas, completed):
    manager, supervisor, hr = personas["manager"], personas["supervisor"], personas["hr"]
    application = approved(open_cycle, manager, supervisor)
    assert application.status == Status.HR_PENDING
    certificate = services.confirm_application(application=application, by=hr, note="同意")
    application.refresh_from_db()
    assert application.status == Status.CONFIRMED
    assert NUMBER.match(certificate.number), certificate.number
    assert certificate.number.startswith(f"TS-{certificate.issued_on.year}-")
    assert certificate.grade.code == "G4" and certificate.holder_name == str(manager)
    assert certificate.valid_until == Certificate.validity_end(certificate.issued_on, 24)
    assert add_months(certificate.issued_on, 24) - certificate.valid_until == timedelta(days=1)
    assert actions(application) == [Action.APPLIED, Action.APPROVED, Action.CONFIRMED]
    confirmed = application.events.get(action=Action.CONFIRMED)
    assert confirmed.actor == hr and confirmed.certificate == certificate
    assert confirmed.details["number"] == certificate.number


def test_validity_is_whole_months_less_a_day():
    assert Certificate.validity_end(date(2026, 3, 10), 24) == date(2028, 3, 9)
    assert Certificate.validity_end(date(2026, 8, 31), 6) == date(2027, 2, 27)
    assert Certificate.validity_end(date(2026, 12, 1), 1) == date(2026, 12, 31)


def test_reject_needs_a_reason_and_leaves_room_to_apply_again(open_cycle, personas, completed):
    manager, supervisor = personas["manager"], personas["supervisor"]
    application = apply(open_cycle, manager)
    with pytest.raises(CertificationError, match="原因"):
        services.reject_application(application=application, by=supervisor, reason="  ")
    application.refresh_from_db()
    assert application.status == Status.SUPERVISOR_PENDING
    assert actions(application) == [Action.APPLIED]

    services.reject_application(application=application, by=supervisor, reason="客户案例不足")
    application.refresh_from_db()
    assert application.status == Status.REJECTED
    rejected = application.events.get(action=Action.REJECTED)
    assert (rejected.actor, rejected.note) == (supervisor, "客户案例不足")
    again = apply(open_cycle, manager, "G3")
    assert again.status == Status.SUPERVISOR_PENDING


def test_send_back_returns_to_the_supervisor_step_with_a_reason(open_cycle, personas, completed):
    manager, supervisor, hr = personas["manager"], personas["supervisor"], personas["hr"]
    application = approved(open_cycle, manager, supervisor)
    with pytest.raises(CertificationError, match="原因"):
        services.send_back_application(application=application, by=hr, reason="")
    services.send_back_application(application=application, by=hr, reason="请补充项目证明")
    application.refresh_from_db()
    assert application.status == Status.SUPERVISOR_PENDING
    with pytest.raises(CertificationError, match="已被处理"):
        services.confirm_application(application=application, by=hr)
    services.approve_application(application=application, by=personas["city_head"])
    services.confirm_application(application=application, by=hr)
    assert actions(application) == [
        Action.APPLIED,
        Action.APPROVED,
        Action.SENT_BACK,
        Action.APPROVED,
        Action.CONFIRMED,
    ]
    assert application.events.get(action=Action.SENT_BACK).note == "请补充项目证明"


def test_a_step_out_of_order_is_refused(open_cycle, personas, completed):
    application = apply(open_cycle, personas["manager"])
    with pytest.raises(CertificationError):
        services.confirm_application(application=application, by=personas["hr"])
    approved_once = services.approve_application(application=application, by=personas["supervisor"])
    with pytest.raises(CertificationError):
        services.approve_application(application=approved_once, by=personas["city_head"])


# --- who may decide -----------------------------------------------------------------------------


def test_nobody_approves_their_own_application(open_cycle, personas):
    supervisor = personas["supervisor"]
    complete_with(mine(open_cycle, supervisor), personas["city_head"])
    application = apply(open_cycle, supervisor)
    with pytest.raises(PermissionDenied):
        services.approve_application(application=application, by=supervisor)
    with pytest.raises(PermissionDenied):
        services.reject_application(application=application, by=supervisor, reason="x")
    services.approve_application(application=application, by=personas["city_head"])


def test_hr_never_confirms_their_own_application(open_cycle, personas, org):
    hr_member = UserFactory(username="hr_in_team", org_unit=org["A"], roles=[Role.HR])
    add_participants(cycle=open_cycle, people=[hr_member], by=personas["hr"])
    complete_with(mine(open_cycle, hr_member), personas["supervisor"])
    application = approved(open_cycle, hr_member, personas["supervisor"])
    with pytest.raises(PermissionDenied):
        services.confirm_application(application=application, by=hr_member)
    with pytest.raises(PermissionDenied):
        services.send_back_application(application=application, by=hr_member, reason="x")
    certificate = services.confirm_application(application=application, by=personas["hr"])
    with pytest.raises(PermissionDenied):
        services.revoke_certificate(certificate=certificate, by=hr_member, reason="x")


@pytest.mark.parametrize("who", ["outsider_supervisor", "outsider", "hr", "admin", "manager"])
def test_only_a_supervisor_of_the_person_approves(open_cycle, personas, completed, who):
    application = apply(open_cycle, personas["manager"])
    with pytest.raises(PermissionDenied):
        services.approve_application(application=application, by=personas[who])
    application.refresh_from_db()
    assert application.status == Status.SUPERVISOR_PENDING


@pytest.mark.parametrize("who", ["supervisor", "city_head", "admin", "outsider"])
def test_only_hr_confirms(open_cycle, personas, completed, who):
    application = approved(open_cycle, personas["manager"], personas["supervisor"])
    with pytest.raises(PermissionDenied):
        services.confirm_application(application=application, by=personas[who])
    assert not Certificate.objects.exists()


def test_decision_records_are_never_edited(open_cycle, personas, completed):
    application = apply(open_cycle, personas["manager"])
    event = application.events.get()
    event.note = "改写"
    with pytest.raises(AuditRecordImmutable):
        event.save()
    with pytest.raises(AuditRecordImmutable):
        CertificationEvent.objects.update(note="改写")
    with pytest.raises(AuditRecordImmutable):
        event.delete()


# --- certificates -------------------------------------------------------------------------------


def test_revocation_needs_a_reason_and_is_recorded(open_cycle, personas, completed):
    hr = personas["hr"]
    certificate = certified(open_cycle, personas["manager"], personas["supervisor"], hr)
    with pytest.raises(CertificationError, match="原因"):
        services.revoke_certificate(certificate=certificate, by=hr, reason="")
    services.revoke_certificate(certificate=certificate, by=hr, reason="评估材料不实")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED and certificate.revoked_at
    event = certificate.events.get(action=Action.REVOKED)
    assert (event.actor, event.note) == (hr, "评估材料不实")
    with pytest.raises(CertificationError, match="已被撤销"):
        services.revoke_certificate(certificate=certificate, by=hr, reason="再次")
    with pytest.raises(PermissionDenied):
        services.revoke_certificate(
            certificate=certificate, by=personas["supervisor"], reason="主管不能撤销"
        )


def test_certificate_numbers_are_unique_even_when_the_random_part_clashes(
    open_cycle, personas, org, monkeypatch
):
    hr, supervisor = personas["hr"], personas["supervisor"]
    other = UserFactory(username="colleague", org_unit=org["A"], roles=[Role.MANAGER])
    add_participants(cycle=open_cycle, people=[other], by=hr)
    complete_with(mine(open_cycle, personas["manager"]), supervisor)
    complete_with(mine(open_cycle, other), supervisor)
    first = certified(open_cycle, personas["manager"], supervisor, hr)
    numbers = iter([first.number, "TS-2026-AAAA-BBBB-CCCC-DDDD"])
    monkeypatch.setattr(services, "new_certificate_number", lambda year: next(numbers))
    second = certified(open_cycle, other, supervisor, hr)
    assert second.number == "TS-2026-AAAA-BBBB-CCCC-DDDD"
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=second.pk).update(number=first.number)


def test_typed_numbers_are_normalised():
    assert normalize_certificate_number(" ts-2026-aaaa-bbbb \n") == "TS-2026-AAAA-BBBB"


# --- HR's bulk applications ---------------------------------------------------------------------


def test_hr_raises_applications_in_bulk_once(open_cycle, personas, org, completed):
    hr, supervisor = personas["hr"], personas["supervisor"]
    people = {
        name: UserFactory(username=name, org_unit=org["A"], roles=[Role.MANAGER])
        for name in ["low", "pending", "holder", "refused", "unfinished"]
    }
    add_participants(cycle=open_cycle, people=list(people.values()), by=hr)
    complete_with(mine(open_cycle, people["low"]), supervisor, default=2, depth=1)
    for name in ["pending", "holder", "refused"]:
        complete_with(mine(open_cycle, people[name]), supervisor)
    apply(open_cycle, people["pending"], "G2")
    certified(open_cycle, people["holder"], supervisor, hr)
    services.reject_application(
        application=apply(open_cycle, people["refused"]), by=supervisor, reason="暂缓"
    )

    created = services.raise_applications_for_cycle(cycle=open_cycle, by=hr)

    raised = CertificationApplication.objects.filter(raised_by=hr)
    assert created == 2
    assert {(a.person.username, a.grade.code) for a in raised} == {
        ("manager", "G4"),
        ("low", "G2"),
    }
    assert all(a.status == Status.SUPERVISOR_PENDING for a in raised)
    for application in raised:
        event = application.events.get()
        assert event.actor == hr and event.details["bulk"] is True
    assert services.raise_applications_for_cycle(cycle=open_cycle, by=hr) == 0


def test_only_hr_raises_in_bulk(open_cycle, personas, completed):
    with pytest.raises(PermissionDenied):
        services.raise_applications_for_cycle(cycle=open_cycle, by=personas["supervisor"])
    assert not CertificationApplication.objects.exists()
