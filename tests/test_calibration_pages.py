"""The calibration pages: sessions, the session page, adjusting, the guide, closing, the export."""

import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.models import User
from assessments.calibration import services as calibration
from assessments.calibration.exports import FORMULA_TRIGGERS, safe_text
from assessments.models import (
    Assessment,
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    Rating,
)

from .test_calibration_helpers import (  # noqa: F401  (fixtures)
    ADJUSTED,
    calibration_world_fixture,
    reason_adjust,
)

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def url(name, world, *extra):
    return reverse(f"calibration:{name}", args=[world["session"].pk, *extra])


def adjust_data(assessment, level=5, reason="客户IT对接能力明显提升", code=ADJUSTED):
    assessment = Assessment.objects.get(pk=assessment.pk)
    return {
        "category": code,
        "level": str(level),
        "reason": reason,
        "revision": assessment.revision,
    }


def final(assessment, code=ADJUSTED):
    return Rating.objects.get(assessment=assessment, category__code=code).final_level


# --- list and create ----------------------------------------------------------------------------


def test_the_list_shows_the_sessions_in_scope(client, calibration_world, org):
    personas = calibration_world["personas"]
    other = calibration.open_session(
        cycle=calibration_world["cycle"], unit=org["B"], by=personas["hr"]
    )
    html = as_user(client, personas["hr"]).get(reverse("calibration:session-list")).content.decode()
    assert f'data-session="{calibration_world["session"].pk}"' in html
    assert f'data-session="{other.pk}"' in html and "发起校准" in html
    response = as_user(client, personas["supervisor"]).get(reverse("calibration:session-list"))
    assert [s.pk for s in response.context["page"].object_list] == [calibration_world["session"].pk]
    assert response.context["page"].object_list[0].assessment_count == 2


def test_a_head_opens_a_session_for_a_unit_they_head(client, open_cycle, personas, org):
    response = as_user(client, personas["supervisor"]).post(
        reverse("calibration:session-create"), {"cycle": open_cycle.pk, "unit": org["A"].pk}
    )
    session = CalibrationSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("calibration:session-detail", args=[session.pk])
    assert (session.org_unit, session.created_by) == (org["A"], personas["supervisor"])


def test_a_unit_above_is_not_offered_to_a_head(client, open_cycle, personas, org):
    client = as_user(client, personas["supervisor"])
    form = client.get(reverse("calibration:session-create")).context["form"]
    assert list(form.fields["unit"].queryset) == [org["A"]]
    response = client.post(
        reverse("calibration:session-create"), {"cycle": open_cycle.pk, "unit": org["C1"].pk}
    )
    assert response.status_code == 400 and not CalibrationSession.objects.exists()


def test_opening_an_existing_session_leads_to_it(client, calibration_world, org):
    response = as_user(client, calibration_world["personas"]["hr"]).post(
        reverse("calibration:session-create"),
        {"cycle": calibration_world["cycle"].pk, "unit": org["A"].pk},
    )
    assert response["Location"] == url("session-detail", calibration_world)
    assert CalibrationSession.objects.count() == 1


def test_draft_cycles_are_not_offered(client, draft_cycle, personas):
    form = as_user(client, personas["hr"]).get(reverse("calibration:session-create"))
    assert draft_cycle not in form.context["form"].fields["cycle"].queryset


# --- the session page ---------------------------------------------------------------------------


def test_the_session_page_shows_raters_distribution_and_grid(client, calibration_world):
    personas = calibration_world["personas"]
    response = as_user(client, personas["hr"]).get(url("session-detail", calibration_world))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-rater="{personas["supervisor"].pk}"' in html
    assert f'data-rater="{personas["city_head"].pk}"' in html
    assert 'data-person="manager"' in html and 'data-person="supervisor"' in html
    assert 'data-person="outsider"' not in html  # team B is outside the session
    assert "偏宽" in html and "判定规则" in html and "标准差" in html  # the rule is on the page
    assert 'data-category="1.1"' in html and "4–5 级占比" in html
    assert 'id="calib-pending"' not in html  # both assessments of team A are completed
    assert (
        reverse(
            "calibration:assessment-detail",
            args=[calibration_world["session"].pk, calibration_world["manager"].pk],
        )
        in html
    )


def test_unfinished_assessments_are_announced_before_closing(client, calibration_world, org):
    from assessments.services import add_participants

    from .factories import UserFactory

    personas = calibration_world["personas"]
    colleague = UserFactory(org_unit=org["A"], roles=["manager"])
    add_participants(cycle=calibration_world["cycle"], people=[colleague], by=personas["hr"])
    response = as_user(client, personas["hr"]).get(url("session-detail", calibration_world))
    assert response.context["pending"] == 1
    assert 'id="calib-pending"' in response.content.decode()


def test_the_grid_filters_by_rater_and_team(client, calibration_world, org):
    personas = calibration_world["personas"]
    client = as_user(client, personas["hr"])
    response = client.get(
        url("session-detail", calibration_world), {"rater": personas["city_head"].pk}
    )
    assert [a.person for a, _r in response.context["rows"]] == [personas["supervisor"]]
    response = client.get(url("session-detail", calibration_world), {"unit": org["A"].pk})
    assert len(response.context["rows"]) == 2


def test_the_grid_marks_an_adjusted_cell(client, calibration_world):
    reason_adjust(calibration_world, "hr", level=5)
    response = as_user(client, calibration_world["personas"]["hr"]).get(
        url("session-detail", calibration_world)
    )
    rows = dict(response.context["rows"])
    cells = {r.category.code: r for r in rows[calibration_world["manager"]]}
    assert cells[ADJUSTED].adjusted and cells[ADJUSTED].final_level == 5
    assert not cells["1.1"].adjusted
    assert "calib-adjusted" in response.content.decode()


# --- adjusting ----------------------------------------------------------------------------------


def test_adjusting_through_the_page(client, calibration_world):
    manager = calibration_world["manager"]
    client = as_user(client, calibration_world["personas"]["hr"])
    response = client.post(
        url("assessment-adjust", calibration_world, manager.pk), adjust_data(manager)
    )
    assert response.status_code == 302
    assert response["Location"] == url("assessment-detail", calibration_world, manager.pk)
    assert final(manager) == 5
    html = client.get(response["Location"]).content.decode()
    assert "客户IT对接能力明显提升" in html and "已调整" in html
    history = client.get(url("session-history", calibration_world)).content.decode()
    assert "客户IT对接能力明显提升" in history and "3 → <strong>5</strong>" in history


def test_a_missing_reason_is_said_and_changes_nothing(client, calibration_world):
    manager = calibration_world["manager"]
    response = as_user(client, calibration_world["personas"]["hr"]).post(
        url("assessment-adjust", calibration_world, manager.pk), adjust_data(manager, reason="")
    )
    assert response.status_code == 400
    assert "调整最终等级时必须填写原因" in response.content.decode()
    assert final(manager) == 3 and not CalibrationAdjustment.objects.exists()


def test_a_stale_page_is_told_and_changes_nothing(client, calibration_world):
    manager = calibration_world["manager"]
    data = adjust_data(manager)
    reason_adjust(calibration_world, "supervisor", level=4)
    response = as_user(client, calibration_world["personas"]["hr"]).post(
        url("assessment-adjust", calibration_world, manager.pk), data
    )
    assert response.status_code == 409 and 'id="calib-error"' in response.content.decode()
    assert final(manager) == 4


def test_a_head_sees_their_own_assessment_without_forms(client, calibration_world):
    head = calibration_world["head"]
    response = as_user(client, calibration_world["personas"]["supervisor"]).get(
        url("assessment-detail", calibration_world, head.pk)
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="calib-own"' in html
    assert "calib-adjust" not in html and not response.context["may_adjust"]


def test_the_adjust_form_offers_the_level_names(client, calibration_world):
    response = as_user(client, calibration_world["personas"]["hr"]).get(
        url("assessment-detail", calibration_world, calibration_world["manager"].pk)
    )
    html = response.content.decode()
    assert '<option value="3" selected>3 熟练</option>' in html
    assert html.count('class="calib-adjust"') == 12


# --- the guide ----------------------------------------------------------------------------------


def guide(values):
    return {
        f"level_{level}": "" if v is None else str(v)
        for level, v in zip(range(1, 6), values, strict=True)
    }


def test_hr_sets_the_guide_on_its_page(client, calibration_world):
    client = as_user(client, calibration_world["personas"]["hr"])
    response = client.post(url("session-guide", calibration_world), guide([5, 15, 50, 20, 10]))
    assert response.status_code == 302
    session = CalibrationSession.objects.get(pk=calibration_world["session"].pk)
    assert session.guide == {1: 5, 2: 15, 3: 50, 4: 20, 5: 10}
    html = client.get(url("session-detail", calibration_world)).content.decode()
    assert "参考 20%" in html


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([10, 10, 10, 10, 10], "必须为 100%"),
        ([50, 50, None, None, None], "请为每个等级填写占比"),
        ([120, -20, 0, 0, 0], ""),
    ],
)
def test_a_guide_not_summing_to_100_is_refused(client, calibration_world, values, message):
    response = as_user(client, calibration_world["personas"]["hr"]).post(
        url("session-guide", calibration_world), guide(values)
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert CalibrationSession.objects.get(pk=calibration_world["session"].pk).guide is None


def test_an_empty_guide_clears_it(client, calibration_world):
    session, hr = calibration_world["session"], calibration_world["personas"]["hr"]
    calibration.set_guide(session=session, by=hr, shares={1: 0, 2: 0, 3: 100, 4: 0, 5: 0})
    response = as_user(client, hr).post(url("session-guide", calibration_world), guide([None] * 5))
    assert response.status_code == 302
    assert CalibrationSession.objects.get(pk=session.pk).guide is None


# --- closing and reopening ----------------------------------------------------------------------


def test_closing_needs_the_confirmation(client, calibration_world):
    client = as_user(client, calibration_world["personas"]["supervisor"])
    client.post(url("session-close", calibration_world), {"note": "x"})
    assert CalibrationSession.objects.get(pk=calibration_world["session"].pk).is_open
    client.post(url("session-close", calibration_world), {"confirm": "on", "note": "已对齐"})
    session = CalibrationSession.objects.get(pk=calibration_world["session"].pk)
    assert not session.is_open
    page = client.get(
        url("assessment-detail", calibration_world, calibration_world["manager"].pk)
    ).content.decode()
    assert "calib-adjust" not in page and "最终等级已锁定" in page


def test_hr_reopens_with_a_reason(client, calibration_world):
    calibration.close_session(
        session=calibration_world["session"], by=calibration_world["personas"]["hr"]
    )
    client = as_user(client, calibration_world["personas"]["hr"])
    client.post(url("session-reopen", calibration_world), {"reason": ""})
    assert not CalibrationSession.objects.get(pk=calibration_world["session"].pk).is_open
    client.post(url("session-reopen", calibration_world), {"reason": "新增一份完成的评估"})
    assert CalibrationSession.objects.get(pk=calibration_world["session"].pk).is_open
    history = client.get(url("session-history", calibration_world)).content.decode()
    assert "新增一份完成的评估" in history and 'data-event="reopened"' in history


# --- the export ---------------------------------------------------------------------------------


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_has_before_and_after_with_reasons(client, calibration_world):
    manager = calibration_world["manager"]
    reason_adjust(calibration_world, "hr", level=5, reason="首次校准")
    reason_adjust(calibration_world, "supervisor", level=4, reason="=回调 一级")
    response = as_user(client, calibration_world["personas"]["hr"]).get(
        url("session-export", calibration_world)
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    sheet = workbook(response).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("单位", "工号", "姓名", "评价人")
    assert "校准前最终等级" in header and "校准后最终等级" in header
    assert len(rows) == 1 + 2 * 12  # the manager and the head, twelve categories each
    col = {name: i for i, name in enumerate(header)}
    row = next(
        r
        for r in rows[1:]
        if r[col["姓名"]] == str(manager.person) and r[col["类别编码"]] == ADJUSTED
    )
    assert row[col["主管评价等级"]] == 3
    assert row[col["校准前最终等级"]] == 3 and row[col["校准后最终等级"]] == 4
    log = row[col["调整记录（时间 · 操作人 · 调整 · 原因）"]]
    assert "首次校准" in log and "3→5" in log and "5→4" in log
    untouched = next(
        r for r in rows[1:] if r[col["姓名"]] == str(manager.person) and r[col["类别编码"]] == "1.1"
    )
    assert untouched[col["是否调整"]] == "否" and untouched[col["校准后最终等级"]] == 3


def test_the_export_neutralises_formulas(client, calibration_world):
    manager = calibration_world["manager"]
    User.objects.filter(pk=manager.person_id).update(display_name='=HYPERLINK("http://x")')
    reason_adjust(calibration_world, "hr", reason="@SUM(A1:A9)")
    response = as_user(client, calibration_world["personas"]["hr"]).get(
        url("session-export", calibration_world)
    )
    sheet = workbook(response).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(v.startswith(FORMULA_TRIGGERS) for v in values)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_safe_text_prefixes_every_formula_trigger(text):
    assert safe_text(text) == "'" + text


def test_safe_text_keeps_ordinary_text():
    assert safe_text("客户经理 = 顾问") == "客户经理 = 顾问" and safe_text(None) == ""


def test_events_record_who_opened_the_session(calibration_world):
    event = CalibrationEvent.objects.get(session=calibration_world["session"])
    assert event.action == CalibrationEvent.Action.OPENED
    assert event.actor == calibration_world["personas"]["hr"]


def test_every_page_renders_in_english_too(client, calibration_world):
    hr = calibration_world["personas"]["hr"]
    User.objects.filter(pk=hr.pk).update(preferred_language="en")
    reason_adjust(calibration_world, "hr")
    calibration.set_guide(
        session=calibration_world["session"], by=hr, shares={1: 5, 2: 15, 3: 50, 4: 20, 5: 10}
    )
    client = as_user(client, User.objects.get(pk=hr.pk))
    manager = calibration_world["manager"].pk
    for page in [
        reverse("calibration:session-list"),
        reverse("calibration:session-create"),
        url("session-detail", calibration_world),
        url("session-history", calibration_world),
        url("session-guide", calibration_world),
        url("assessment-detail", calibration_world, manager),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.wsgi_request.LANGUAGE_CODE == "en"
    sheet = workbook(client.get(url("session-export", calibration_world))).active
    assert sheet.cell(1, 1).value
