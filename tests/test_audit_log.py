"""The audit log: every kind of event is recorded with who, what, when, from where; it cannot be
changed by the ORM or by SQL; HR and admin list, filter and export it, and the export is audited.
"""

import csv
import io
import json
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.audit import (
    PSEUDONYMISE_FLAG,
    AuditEvent,
    AuditRecordImmutable,
    pseudonymise_audit_events,
    record_audit_event,
)
from accounts.org_import import upload_org_file
from assessments.models import Assessment, AssessmentEvent, Evidence
from assessments.services import close_cycle
from competency.exchange import export_version
from competency.models import ModelImport
from competency.services import create_draft_from, publish_version

from .assessment_helpers import submit
from .factories import DEMO_PASSWORD
from .test_account_access import EXAMPLE as ORG_EXAMPLE
from .test_calibration_helpers import calibration_world_fixture  # noqa: F401  (fixture)
from .test_moodle_import import EXAMPLE as MOODLE_EXAMPLE

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (AuditTest) Chromium/140"


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def only_event(action):
    found = events(action)
    assert len(found) == 1, found
    return found[0]


def browser(**headers) -> Client:
    """A client that looks like a browser at a known address with a known request id."""
    return Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7", **headers)


# --- signing in and out -------------------------------------------------------------------------


def test_sign_in_is_recorded_with_who_when_and_where(manager):
    client = browser()
    before = timezone.now()
    response = client.post(
        reverse("login"),
        {"username": "manager", "password": DEMO_PASSWORD},
        HTTP_X_REQUEST_ID="req-sign-in-1",
    )
    assert response.status_code == 302
    event = only_event(AuditEvent.Action.SIGN_IN)
    assert (event.actor, event.actor_label) == (manager, "manager")
    assert (event.ip_address, event.user_agent, event.request_id) == (
        "203.0.113.7",
        BROWSER,
        "req-sign-in-1",
    )
    assert before <= event.at <= timezone.now()


def test_failed_sign_ins_look_the_same_whether_or_not_the_name_exists(manager):
    client = browser()
    for name in ["manager", "nobody-here"]:
        response = client.post(reverse("login"), {"username": name, "password": "Wrong-pass-42"})
        assert response.status_code == 200
    known, unknown = events(AuditEvent.Action.SIGN_IN_FAILED)
    assert (known.actor, known.actor_label, unknown.actor, unknown.actor_label) == (
        None,
        "manager",
        None,
        "nobody-here",
    )
    shape = ["target_type", "target_id", "target_label", "subject_id", "summary", "details"]
    assert [getattr(known, f) for f in shape] == [getattr(unknown, f) for f in shape]
    assert known.ip_address == unknown.ip_address == "203.0.113.7"
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "Wrong-pass-42" not in stored and not events(AuditEvent.Action.SIGN_IN)


def test_sign_out_is_recorded(manager):
    client = browser()
    client.force_login(manager)
    client.post(reverse("logout"), HTTP_X_REQUEST_ID="req-out")
    event = only_event(AuditEvent.Action.SIGN_OUT)
    assert (event.actor, event.request_id, event.ip_address) == (manager, "req-out", "203.0.113.7")


# --- refused access ------------------------------------------------------------------------------


def test_a_refused_page_is_recorded(manager):
    client = browser()
    client.force_login(manager)
    url = reverse("accounts:audit-log")
    assert client.get(url, HTTP_X_REQUEST_ID="req-403").status_code == 403
    event = only_event(AuditEvent.Action.ACCESS_DENIED)
    assert (event.actor, event.request_id, event.ip_address) == (manager, "req-403", "203.0.113.7")
    assert event.details == {"method": "GET", "path": url, "status": 403}
    assert url in event.summary


def test_a_refused_api_call_is_recorded(manager, hr):
    client = browser()
    token = Token.objects.create(user=manager)
    url = reverse("v1:user-token-detail", args=[hr.pk])
    response = client.delete(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    event = only_event(AuditEvent.Action.ACCESS_DENIED)
    assert (event.actor, event.details["status"], event.details["path"]) == (manager, 403, url)


def test_a_bad_api_token_is_recorded_but_an_anonymous_call_is_not(manager):
    client = browser()
    url = reverse("v1:person-list")
    assert client.get(url).status_code == 401
    assert not events(AuditEvent.Action.ACCESS_DENIED)
    assert client.get(url, HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401
    event = only_event(AuditEvent.Action.ACCESS_DENIED)
    assert (event.actor, event.details["status"], event.ip_address) == (None, 401, "203.0.113.7")


# --- decisions -----------------------------------------------------------------------------------


def test_every_decision_record_becomes_an_audit_event(open_cycle, manager):
    assessment = submit(Assessment.objects.get(cycle=open_cycle, person=manager))
    decision = AssessmentEvent.objects.get(assessment=assessment, action="self_submitted")
    event = AuditEvent.objects.get(
        details__record_id=decision.pk, details__decision="self_submitted"
    )
    assert event.action == AuditEvent.Action.DECISION
    assert (event.actor, event.actor_label, event.at) == (manager, "manager", decision.at)
    assert (event.target_type, event.target_id) == ("assessments.assessment", str(assessment.pk))
    assert event.subject == manager and str(manager) in event.target_label
    assert event.details["record"] == "assessments.assessmentevent"
    assert event.description == "评估记录：已提交自评"


def test_decisions_made_in_bulk_are_each_recorded(open_cycle, hr):
    unfinished = Assessment.objects.filter(cycle=open_cycle).count()
    close_cycle(cycle=open_cycle, by=hr)
    closing = AuditEvent.objects.filter(details__decision="not_completed")
    assert (
        closing.count()
        == unfinished
        == AssessmentEvent.objects.filter(action="not_completed").count()
    )
    assert set(closing.values_list("actor_label", flat=True)) == {"hr"}
    assert set(closing.values_list("subject_id", flat=True)) == set(
        Assessment.objects.filter(cycle=open_cycle).values_list("person_id", flat=True)
    )


def test_publishing_a_model_is_its_own_action_with_the_request_origin(
    client, model_version, admin_user
):
    draft = create_draft_from(source=model_version, by=admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("competency:version-publish", args=[draft.number]),
        {"note": "年度更新", "confirm": "on"},
        HTTP_X_REQUEST_ID="req-publish",
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="model_published", target_id=str(draft.pk))
    assert (event.actor, event.target_type) == (admin_user, "competency.modelversion")
    assert (event.request_id, event.ip_address) == ("req-publish", "198.51.100.4")
    assert event.details["decision"] == "published"


def test_a_decision_made_outside_a_request_has_no_origin(model_version, admin_user):
    draft = create_draft_from(source=model_version, by=admin_user)
    publish_version(version=draft, by=admin_user)
    event = AuditEvent.objects.get(action="model_published", target_id=str(draft.pk))
    assert (event.actor, event.ip_address, event.user_agent) == (admin_user, None, "")
    # The default model installed by a command is published by nobody: no actor, no label.
    installed = AuditEvent.objects.get(action="model_published", target_id=str(model_version.pk))
    assert (installed.actor, installed.actor_label) == (None, "")


# --- imports and exports ---------------------------------------------------------------------------


def test_confirming_an_org_import_is_recorded(client, hr, model_version):
    record = upload_org_file(content=ORG_EXAMPLE, file_name="org.csv", by=hr)
    client.force_login(hr)
    client.post(reverse("accounts:org-import-detail", args=[record.pk]))
    event = only_event(AuditEvent.Action.IMPORT)
    assert (event.actor, event.summary, event.details) == (hr, "org.csv", {"kind": "org"})
    assert (event.target_type, event.target_id) == ("accounts.orgimport", str(record.pk))


def test_model_and_moodle_imports_are_recorded(client, admin_user, model_version):
    client.force_login(admin_user)
    files = [
        ("model.json", json.dumps(export_version(model_version)).encode()),
        ("framework.csv", MOODLE_EXAMPLE.read_bytes()),
    ]
    for name, content in files:
        client.post(
            reverse("competency:import-upload"),
            {"file": SimpleUploadedFile(name, content), "file_format": ""},
        )
        record = ModelImport.objects.get(file_name=name)
        client.post(reverse("competency:import-detail", args=[record.pk]))
    formats = [e.details["format"] for e in events(AuditEvent.Action.IMPORT)]
    assert formats == ["json", "moodle-csv"]
    assert [e.summary for e in events(AuditEvent.Action.IMPORT)] == ["model.json", "framework.csv"]


def test_downloads_are_recorded(client, open_cycle, personas, model_version, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    manager, hr, admin = personas["manager"], personas["hr"], personas["admin"]
    own = Assessment.objects.get(cycle=open_cycle, person=manager)
    evidence = Evidence.objects.create(
        assessment=own,
        category=own.ratings.first().category,
        file=SimpleUploadedFile("swot.txt", b"SWOT"),
        original_name="swot.txt",
        content_type="text/plain",
        size=4,
        uploaded_by=manager,
    )
    downloads = [
        (manager, reverse("assessments:evidence-download", args=[evidence.pk]), "swot.txt"),
        (hr, reverse("certification:certificate-export") + "?format=csv", "certificates-"),
        (
            admin,
            reverse("competency:version-export", args=[model_version.number, "json"]),
            "tshape",
        ),
    ]
    for user, url, summary in downloads:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response.getvalue(), url
        event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("pk")
        assert event.actor == user and event.summary.startswith(summary), event.summary
    evidence_event = events(AuditEvent.Action.EXPORT)[0]
    assert (evidence_event.target_type, evidence_event.subject) == (
        "assessments.assessment",
        manager,
    )


def test_a_calibration_export_is_recorded(client, calibration_world):
    hr, session = calibration_world["personas"]["hr"], calibration_world["session"]
    client.force_login(hr)
    response = client.get(reverse("calibration:session-export", args=[session.pk]))
    assert response.status_code == 200 and response.getvalue()
    event = only_event(AuditEvent.Action.EXPORT)
    assert (event.actor, event.target_type, event.target_id) == (
        hr,
        "assessments.calibrationsession",
        str(session.pk),
    )
    assert event.summary.startswith(f"calibration-{session.pk}-")


# --- append-only -----------------------------------------------------------------------------------


@pytest.fixture
def event(manager):
    return record_audit_event(action=AuditEvent.Action.SIGN_IN, actor=manager)


def test_the_orm_refuses_to_change_or_delete_an_event(event):
    event.summary = "改写"
    with pytest.raises(AuditRecordImmutable):
        event.save()
    with pytest.raises(AuditRecordImmutable):
        event.delete()
    with pytest.raises(AuditRecordImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(summary="改写")
    with pytest.raises(AuditRecordImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditRecordImmutable):
        AuditEvent.objects.bulk_update([event], ["summary"])
    assert AuditEvent.objects.get(pk=event.pk).summary == ""


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET summary = 'rewritten' WHERE id = %s",
        "UPDATE accounts_auditevent SET actor_label = 'someone-else' WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_changes(event, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        _raw(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, summary="", actor_label="manager").exists()


@postgresql_only
def _flagged(sql, params):
    """``sql`` in a transaction that has set the erasure flag first."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [PSEUDONYMISE_FLAG])
        cursor.execute(sql, params)


@postgresql_only
def test_even_with_the_erasure_flag_only_the_labels_may_change(event):
    for sql in [
        "UPDATE accounts_auditevent SET action = 'sign_out' WHERE id = %s",
        "UPDATE accounts_auditevent SET actor_label = 'x', actor_id = NULL WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ]:
        with pytest.raises(IntegrityError, match="append-only"):
            _flagged(sql, [event.pk])
    _flagged("UPDATE accounts_auditevent SET actor_label = 'erased-x' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).actor_label == "erased-x"


@postgresql_only
def test_the_erasure_path_switches_the_flag_off_again(event, manager):
    with transaction.atomic():
        pseudonymise_audit_events(
            person=manager, username="manager", identities=["manager"], pseudonym="erased-1"
        )
        assert AuditEvent.objects.get(pk=event.pk).actor_label == "erased-1"
        with pytest.raises(IntegrityError, match="append-only"):
            _raw("UPDATE accounts_auditevent SET actor_label = 'again' WHERE id = %s", [event.pk])


# --- where a request came from -------------------------------------------------------------------


def test_the_forwarded_address_counts_only_behind_a_configured_proxy(manager, settings):
    for hops in [0, 1, 2]:
        settings.TRUSTED_PROXY_COUNT = hops
        client = Client(HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.55", REMOTE_ADDR="127.0.0.1")
        client.post(reverse("login"), {"username": "manager", "password": DEMO_PASSWORD})
    addresses = [e.ip_address for e in events(AuditEvent.Action.SIGN_IN)]
    # Without the setting the header is ignored; behind one proxy its entry (the last) counts;
    # behind two, the address the outer proxy saw.
    assert addresses == ["127.0.0.1", "192.0.2.55", "10.9.9.9"]


# --- the list --------------------------------------------------------------------------------------


@pytest.fixture
def log(personas):
    """Events of several kinds and days (sign-ins of the personas are in the log too)."""
    manager, hr = personas["manager"], personas["hr"]
    old = record_audit_event(action=AuditEvent.Action.SIGN_IN, actor=manager)
    # The time is set when the row is written, so an old event is written with an old time.
    old_at = timezone.now() - timedelta(days=10)
    stale = AuditEvent.objects.create(
        action=AuditEvent.Action.EXPORT, actor=hr, actor_label="hr", at=old_at, summary="old.csv"
    )
    record_audit_event(
        action=AuditEvent.Action.SIGN_IN_FAILED, actor_label='=HYPERLINK("http://x")'
    )
    record_audit_event(action=AuditEvent.Action.EXPORT, actor=hr, summary="register-2026.csv")
    return {"old": old, "stale": stale, "old_at": old_at}


def rows(client, **query):
    response = client.get(reverse("accounts:audit-log"), query)
    assert response.status_code == 200
    html = response.content.decode()
    return [int(part.split('"')[0]) for part in html.split('data-event="')[1:]]


def test_hr_lists_the_log_newest_first_and_filters_it(client, hr, log):
    client.force_login(hr)
    everything = rows(client)
    assert everything == list(
        AuditEvent.objects.order_by("-at", "-pk").values_list("pk", flat=True)
    )
    exports = rows(client, action="export")
    assert exports == list(
        AuditEvent.objects.filter(action="export")
        .order_by("-at", "-pk")
        .values_list("pk", flat=True)
    )
    assert rows(client, actor="HR", action="export") == exports
    assert rows(client, q="register-2026") == [exports[0]]
    day = timezone.localdate(log["old_at"])
    assert rows(client, date_from=day.isoformat(), date_to=day.isoformat()) == [log["stale"].pk]
    assert log["stale"].pk not in rows(client, date_from=(day + timedelta(days=1)).isoformat())


def test_an_invalid_filter_is_reported_and_the_others_still_apply(client, hr, log):
    client.force_login(hr)
    response = client.get(
        reverse("accounts:audit-log"), {"date_from": "not-a-date", "action": "export"}
    )
    html = response.content.decode()
    assert 'role="alert"' in html
    assert rows(client, date_from="not-a-date", action="export") == rows(client, action="export")


def test_pages_keep_the_filters(client, hr, manager):
    for _n in range(55):
        record_audit_event(action=AuditEvent.Action.SIGN_IN_FAILED, actor_label="guess")
    client.force_login(hr)
    html = client.get(reverse("accounts:audit-log"), {"action": "sign_in_failed"}).content.decode()
    assert "action=sign_in_failed&amp;page=2" in html
    second = rows(client, action="sign_in_failed", page=2)
    assert len(second) == 5


def _csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_filtered_log_exports_as_csv_and_the_export_is_audited(client, hr, log):
    client.force_login(hr)
    response = client.get(
        reverse("accounts:audit-export"), {"format": "csv", "action": "sign_in_failed"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *body = _csv_rows(response)
    assert header[:3] == ["时间", "事件", "操作人账号"]
    assert [row[1] for row in body] == ["登录失败"]
    assert body[0][2] == '\'=HYPERLINK("http://x")'  # neutralised: no formula in Excel
    export = AuditEvent.objects.filter(action="export", actor=hr).latest("pk")
    assert export.details == {"format": "csv", "filters": {"action": "sign_in_failed"}}
    assert export.summary.startswith("audit-log-") and export.summary.endswith(".csv")


def test_the_log_exports_as_xlsx(client, admin_user, log):
    client.force_login(admin_user)
    response = client.get(
        reverse("accounts:audit-export"), {"format": "xlsx", "q": "register-2026"}
    )
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "时间" and len(values) == 2
    assert values[1][1] == "导出" and values[1][6] == "register-2026.csv"


def test_nothing_on_the_page_edits_the_log(client, hr, log):
    client.force_login(hr)
    html = client.get(reverse("accounts:audit-log")).content.decode()
    assert 'method="post"' not in html.split('id="audit-filters"')[1].split("</main>")[0]
    assert client.post(reverse("accounts:audit-log")).status_code == 405


def test_the_menu_shows_the_log_to_hr_and_admin_only(client, personas):
    url = reverse("accounts:audit-log")
    for role, shown in [("hr", True), ("admin", True), ("supervisor", False), ("manager", False)]:
        client.force_login(personas[role])
        assert (f'href="{url}"' in client.get(reverse("home")).content.decode()) is shown, role
