"""Decision e-mails: queued after the commit, to the applicant (or the approving supervisor when HR
sends back), in the recipient's language, marked with the kind of message."""

import pytest

from assessments.certification import services

from .test_certification_fixtures import apply, approved, completed_fixture  # noqa: F401 - the "completed" fixture

pytestmark = pytest.mark.django_db


def kinds(mailoutbox):
    return [(m.to[0], m.extra_headers["X-TShape-Mail"]) for m in mailoutbox]


def test_each_decision_mails_the_right_person(
    open_cycle, personas, completed, mailoutbox, django_capture_on_commit_callbacks
):
    manager, supervisor, hr = personas["manager"], personas["supervisor"], personas["hr"]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        application = approved(open_cycle, manager, supervisor)
    assert mailoutbox == []  # applying and approving mail nobody: the queues show them
    with django_capture_on_commit_callbacks(execute=True):
        services.send_back_application(application=application, by=hr, reason="请补充项目证明")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_application(application=application, by=supervisor)
        certificate = services.confirm_application(application=application, by=hr)
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_certificate(certificate=certificate, by=hr, reason="材料不实")
    assert kinds(mailoutbox) == [
        (supervisor.email, "certification/application_sent_back"),
        (manager.email, "certification/certificate_issued"),
        (manager.email, "certification/certificate_revoked"),
    ]
    assert "请补充项目证明" in mailoutbox[0].body
    assert certificate.number in mailoutbox[1].body
    assert "材料不实" in mailoutbox[2].body


def test_a_rejection_mails_the_applicant_with_the_reason(
    open_cycle, personas, completed, mailoutbox, django_capture_on_commit_callbacks
):
    application = apply(open_cycle, personas["manager"])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_application(
            application=application, by=personas["supervisor"], reason="客户案例不足"
        )
    (mail,) = mailoutbox
    assert mail.to == [personas["manager"].email]
    assert "未获通过" in mail.subject and "客户案例不足" in mail.body
    assert f"/certification/applications/{application.pk}/" in mail.body
