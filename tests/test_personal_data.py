"""Personal data: HR exports everything stored about one person (and nothing of anyone else) and
erases a person who has left — identity replaced by a stable pseudonym, ratings and statistics
kept, audit labels pseudonymised. Both are audited; an active person cannot be erased.
"""

import json
from datetime import date
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.audit import AuditEvent, record_audit_event
from accounts.models import User
from accounts.services import (
    PersonalDataError,
    deactivate_person,
    erase_person,
    pseudonym_for,
)
from assessments.models import (
    Assessment,
    CalibrationAdjustment,
    Certificate,
    DevelopmentGoal,
    Evidence,
    IndustryRating,
    Rating,
)
from assessments.profiles.reports.team import team_report
from assessments.profiles.services import comment_on_goal

from .factories import DEMO_PASSWORD
from .test_calibration_helpers import (  # noqa: F401  (fixtures)
    calibration_world_fixture,
    reason_adjust,
)
from .test_certification_fixtures import certified

pytestmark = pytest.mark.django_db

SELF_TEXT = "我负责了王府井营业厅的专线项目"


@pytest.fixture
def world(calibration_world, settings, tmp_path, client):
    """The manager with everything a person can have: a completed, calibrated assessment with
    comments and evidence, a certificate, a commented goal, sign-ins and a failed one."""
    settings.MEDIA_ROOT = tmp_path
    personas, cycle = calibration_world["personas"], calibration_world["cycle"]
    manager, supervisor, hr = personas["manager"], personas["supervisor"], personas["hr"]
    own = Assessment.objects.get(pk=calibration_world["manager"].pk)
    Assessment.objects.filter(pk=own.pk).update(self_comment=f"{manager.display_name}：总结")
    Rating.objects.filter(assessment=own).update(self_comment=SELF_TEXT)
    IndustryRating.objects.filter(assessment=own).update(evidence="金融行业 SWOT 分析")
    evidence = Evidence.objects.create(
        assessment=own,
        category=own.ratings.first().category,
        file=SimpleUploadedFile("swot.txt", b"SWOT"),
        original_name="我的SWOT.txt",
        content_type="text/plain",
        size=4,
        uploaded_by=manager,
    )
    reason_adjust(calibration_world, "hr")
    certificate = certified(cycle, manager, supervisor, hr)
    goal = DevelopmentGoal.objects.create(
        person=manager, title="学习云网融合方案", category_code="1.3", due_date=date(2027, 6, 30)
    )
    comment_on_goal(goal=goal, by=supervisor, text="建议参加培训")
    client.post(reverse("login"), {"username": "manager", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "manager", "password": DEMO_PASSWORD})
    client.logout()
    Token.objects.create(user=manager)
    return calibration_world | {
        "own": own,
        "evidence": evidence,
        "file": Path(tmp_path) / evidence.file.name,
        "certificate": certificate,
        "goal": goal,
    }


def download(client, hr, person) -> dict:
    client.force_login(hr)
    response = client.get(reverse("accounts:person-data-export", args=[person.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


# --- export ---------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person(client, world):
    personas = world["personas"]
    manager, hr = personas["manager"], personas["hr"]
    document = download(client, hr, manager)
    assert document["format"] == "tshape-personal-data/1" and document["exported_by"] == "hr"
    assert document["person"]["username"] == "manager"
    assert document["person"]["employee_no"] == manager.employee_no
    assert (document["org_unit"]["code"], document["roles"]) == ("A", ["manager"])
    (assessment,) = document["assessments"]
    assert assessment["id"] == world["own"].pk and len(assessment["ratings"]) == 12
    assert {r["self_comment"] for r in assessment["ratings"]} == {SELF_TEXT}
    assert all(r["final_level"] for r in assessment["ratings"])
    assert assessment["evidence"][0]["original_name"] == "我的SWOT.txt"
    assert [d["action"] for d in assessment["decisions"]] == ["self_submitted", "completed"]
    assert document["certificates"][0]["number"] == world["certificate"].number
    assert document["certification_applications"][0]["status"] == "confirmed"
    assert document["development_goals"][0]["comments"][0]["note"] == "建议参加培训"
    assert document["calibration_adjustments"][0]["to_level"] == 5
    actions = {e["action"] for e in document["audit_events"]}
    assert {"sign_in", "sign_in_failed", "sign_out", "decision"} <= actions


def test_the_export_holds_nothing_of_anyone_else(client, world):
    personas = world["personas"]
    manager, outsider = personas["manager"], personas["outsider"]
    # The manager did something to the outsider's record: the event is theirs, the name is not.
    record_audit_event(
        action=AuditEvent.Action.EXPORT, actor=manager, target=world["outsider"], summary="x.csv"
    )
    text = json.dumps(download(client, personas["hr"], manager), ensure_ascii=False)
    for other in [outsider, personas["outsider_supervisor"], personas["city_head"]]:
        for value in [other.username, other.display_name, other.email, other.employee_no]:
            assert value not in text, value
    assert f'"target_id": "{world["outsider"].pk}"' in text


def test_the_export_is_audited(client, world):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    download(client, hr, manager)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_EXPORTED)
    assert (event.actor, event.subject, event.target_type) == (hr, manager, "accounts.user")
    assert event.ip_address == "127.0.0.1"


# --- erasure --------------------------------------------------------------------------------------


def erase(client, hr, person, confirm=True):
    client.force_login(hr)
    data = {"confirm": "on"} if confirm else {}
    return client.post(reverse("accounts:person-erase", args=[person.pk]), data)


def test_an_active_person_cannot_be_erased(client, world):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    response = erase(client, hr, manager)
    assert response.status_code == 400
    html = response.content.decode()
    assert "只能删除已离职人员的身份信息：请先将此人标记为已离职。" in html
    manager.refresh_from_db()
    assert (manager.username, manager.erased_at, manager.is_active) == ("manager", None, True)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSON_ERASED).exists()


def test_erasing_needs_the_confirmation(client, world):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    deactivate_person(person=manager, by=hr)
    response = erase(client, hr, manager, confirm=False)
    assert response.status_code == 400 and "请勾选确认框。" in response.content.decode()
    manager.refresh_from_db()
    assert manager.erased_at is None


def test_marking_as_left_is_audited_and_deactivates(client, world):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    client.force_login(hr)
    response = client.post(reverse("accounts:person-deactivate", args=[manager.pk]))
    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_active
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSON_DEACTIVATED)
    assert (event.actor, event.subject) == (hr, manager)
    response = client.post(reverse("accounts:person-deactivate", args=[manager.pk]))
    assert response.status_code == 400 and "此人已标记为已离职。" in response.content.decode()


def statistics(world):
    report = team_report(cycle=world["cycle"], unit=world["org"]["P"], user=world["personas"]["hr"])
    return report.summary, [(m["axis"].pk, m["n"], m["mean"], m["below"]) for m in report.means]


def levels(person):
    return sorted(
        Rating.objects.filter(assessment__person=person).values_list(
            "category_id", "self_level", "supervisor_level", "final_level"
        )
    )


def test_erasing_replaces_the_identity_and_keeps_the_ratings(
    client, world, django_capture_on_commit_callbacks
):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    old = {"username": manager.username, "name": manager.display_name, "email": manager.email}
    old["employee_no"] = manager.employee_no
    before = (statistics(world), levels(manager), CalibrationAdjustment.objects.count())
    deactivate_person(person=manager, by=hr)
    assert world["file"].exists()
    AccessAttempt.objects.create(  # a lockout's record of failures: the typed name, an address
        username=old["username"],
        ip_address="10.0.0.9",
        user_agent="",
        http_accept="",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = erase(client, hr, manager)
    assert response.status_code == 302
    pseudonym = pseudonym_for(manager)
    assert pseudonym.startswith("erased-") and len(pseudonym) == len("erased-") + 10

    person = User.objects.get(pk=manager.pk)
    assert (person.username, person.display_name, str(person)) == (pseudonym,) * 3
    assert (person.email, person.first_name, person.phone, person.employee_no) == ("", "", "", None)
    assert not person.has_usable_password() and not person.is_active and person.erased_at
    assert not person.groups.exists() and not Token.objects.filter(user=person).exists()
    assert not AccessAttempt.objects.filter(username=old["username"]).exists()

    assert (statistics(world), levels(person), CalibrationAdjustment.objects.count()) == before
    own = Assessment.objects.get(pk=world["own"].pk)
    assert (own.self_comment, own.supervisor_comment, own.status) == ("", "", "completed")
    assert set(Rating.objects.filter(assessment=own).values_list("self_comment", flat=True)) == {""}
    assert not IndustryRating.objects.filter(assessment=own).exclude(evidence="").exists()
    assert not Evidence.objects.filter(assessment=own).exists() and not world["file"].exists()
    assert Certificate.objects.get(pk=world["certificate"].pk).holder_name == pseudonym
    assert DevelopmentGoal.objects.get(pk=world["goal"].pk).title == ""

    labels = AuditEvent.objects.values_list("actor_label", "target_label", "summary")
    text = json.dumps(list(labels), ensure_ascii=False)
    for value in old.values():
        assert value not in text, value
    mine = AuditEvent.objects.concerning(person)
    assert set(mine.filter(actor=person).values_list("actor_label", flat=True)) == {pseudonym}
    failed = mine.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert (failed.actor, failed.actor_label) == (None, pseudonym)
    erased = AuditEvent.objects.get(action=AuditEvent.Action.PERSON_ERASED)
    assert (erased.actor, erased.subject, erased.target_label) == (hr, person, pseudonym)


def test_the_pseudonym_is_stable_and_the_export_after_erasure_shows_only_it(client, world):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    old_name = manager.display_name
    deactivate_person(person=manager, by=hr)
    pseudonym = erase_person(person=manager, by=hr)
    assert pseudonym == pseudonym_for(User.objects.get(pk=manager.pk))
    text = json.dumps(download(client, hr, manager), ensure_ascii=False)
    assert pseudonym in text and old_name not in text and SELF_TEXT not in text
    with pytest.raises(PersonalDataError, match="已经删除"):
        erase_person(person=manager, by=hr)


def test_comments_the_person_wrote_about_others_stay(world):
    supervisor, hr = world["personas"]["supervisor"], world["personas"]["hr"]
    managed = Rating.objects.filter(assessment=world["own"]).values_list(
        "supervisor_comment", flat=True
    )
    assert set(managed) == {"依据项目表现"}
    deactivate_person(person=supervisor, by=hr)
    erase_person(person=supervisor, by=hr)
    assert set(managed) == {"依据项目表现"}
    assert Assessment.objects.get(pk=world["own"].pk).reviewer_id == supervisor.pk


def test_a_failed_erasure_changes_nothing(world, monkeypatch):
    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    deactivate_person(person=manager, by=hr)
    from accounts import services

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "pseudonymise_audit_events", broken)
    with pytest.raises(RuntimeError):
        erase_person(person=manager, by=hr)
    person = User.objects.get(pk=manager.pk)
    assert (person.username, person.erased_at) == ("manager", None)
    assert Evidence.objects.filter(pk=world["evidence"].pk).exists() and world["file"].exists()
    assert Rating.objects.filter(assessment=world["own"], self_comment=SELF_TEXT).count() == 12


# --- who may -------------------------------------------------------------------------------------


def test_only_hr_gets_the_personal_data_link_in_the_people_list(client, world):
    manager = world["personas"]["manager"]
    link = reverse("accounts:person-data", args=[manager.pk])
    for role, shown in [("hr", True), ("admin", False), ("supervisor", False)]:
        client.force_login(world["personas"][role])
        html = client.get(reverse("accounts:people-list")).content.decode()
        assert (link in html) is shown, role


def test_the_admin_sees_people_but_not_their_personal_data(client, world):
    personas = world["personas"]
    client.force_login(personas["admin"])
    url = reverse("accounts:person-data-export", args=[personas["manager"].pk])
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data_exported").exists()


def test_erasing_takes_back_report_files_that_print_the_name(
    world, django_capture_on_commit_callbacks
):
    from assessments.gap_reports import services as gap
    from assessments.models import GapReportExport

    manager, hr = world["personas"]["manager"], world["personas"]["hr"]
    with django_capture_on_commit_callbacks(execute=True):
        run = gap.start_gap_report(cycle=world["cycle"], by=hr)
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        export = gap.request_export(
            run=run, unit=world["org"]["P"], file_format="csv", language="zh-hans", by=hr
        )
    export.refresh_from_db()
    built = Path(export.file.path)
    assert export.status == "ready" and manager.display_name in built.read_text("utf-8-sig")

    deactivate_person(person=manager, by=hr)
    with django_capture_on_commit_callbacks(execute=True):
        erase_person(person=User.objects.get(pk=manager.pk), by=hr)
    export.refresh_from_db()
    assert export.status == GapReportExport.Status.FAILED and not export.file
    assert "已移除" in export.error and not built.exists()

    with django_capture_on_commit_callbacks(execute=True):  # built again on request
        again = gap.request_export(
            run=run, unit=world["org"]["P"], file_format="csv", language="zh-hans", by=hr
        )
    again.refresh_from_db()
    text = Path(again.file.path).read_text("utf-8-sig")
    assert again.status == "ready" and manager.display_name not in text
    assert pseudonym_for(manager) in text
