"""The manager's pages: my assessments, the self-assessment page (plain form and autosave),
submit, and the read-only detail page; who may open which."""

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.forms.self_assessment import SelfAssessmentForm
from assessments.models import Assessment, Cycle, Rating
from assessments.selectors import assessment_sheet
from assessments.services import RatingInput, return_assessment, save_review
from assessments.services import open_cycle as open_cycle_service
from competency.exchange import export_version, import_model_data
from competency.services import publish_version

from .assessment_helpers import codes, complete, fill_self, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(open_cycle, personas) -> Assessment:
    return Assessment.objects.get(cycle=open_cycle, person=personas["manager"])


def signed_in(client, user):
    client.force_login(user)
    return client


def page_data(assessment, level=3, industries=("finance",), depth=4, **extra) -> dict:
    """Everything the page posts, as the browser sends it."""
    data = {"revision": assessment.revision, "self_comment": "今年的总结"}
    for code in codes(assessment):
        data[f"level-{code}"] = level
        data[f"comment-{code}"] = f"实例 {code}"
    data["industry"] = list(industries)
    for code in industries:
        data[f"depth-{code}"] = depth
        data[f"evidence-{code}"] = "客户SWOT：优势……"
    data.update(extra)
    return data


def self_url(assessment):
    return reverse("assessments:self", args=[assessment.pk])


def detail_url(assessment):
    return reverse("assessments:detail", args=[assessment.pk])


def autosave(client, assessment, data):
    return client.post(self_url(assessment), data, HTTP_X_AUTOSAVE="1")


# --- my assessments -----------------------------------------------------------------------------


def test_my_list_shows_only_own_assessments_newest_first(client, mine, personas, hr, model_version):
    later = Cycle.objects.create(
        name="2027 年度评估",
        model_version=model_version,
        self_deadline=date(2027, 12, 15),
        review_deadline=date(2027, 12, 31),
        created_by=hr,
    )
    later.participant_people.add(personas["manager"])
    open_cycle_service(cycle=later, by=hr)

    response = signed_in(client, personas["manager"]).get(reverse("assessments:my-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("2027 年度评估") < html.index("2026 年度评估")
    assert self_url(mine) in html and "2026-12-15" in html
    assert "未开始" in html
    outsiders = Assessment.objects.filter(person=personas["outsider"]).values_list("pk", flat=True)
    for pk in outsiders:
        assert f'data-assessment="{pk}"' not in html


def test_my_list_links_to_the_detail_page_once_submitted(client, mine, personas):
    submit(mine)
    html = signed_in(client, personas["manager"]).get(reverse("assessments:my-list")).content
    assert detail_url(mine).encode() in html
    assert self_url(mine).encode() not in html
    assert "已提交".encode() in html


def test_my_list_needs_sign_in_only(client, personas, open_cycle):
    assert client.get(reverse("assessments:my-list")).status_code == 302
    response = signed_in(client, personas["hr"]).get(reverse("assessments:my-list"))
    assert response.status_code == 200
    assert "您目前没有需要参加的评估" in response.content.decode()


# --- the self page: who may open it --------------------------------------------------------------


def test_the_person_sees_the_page_in_model_order(client, mine, personas):
    response = signed_in(client, personas["manager"]).get(self_url(mine))

    html = response.content.decode()
    assert response.status_code == 200
    # domain order, then category order — never alphabetical
    positions = [html.index(f'data-category="{code}"') for code in codes(mine)]
    assert positions == sorted(positions)
    assert codes(mine)[:2] == ["1.1", "1.2"]
    assert "陪伴客户共同成长的通信顾问" in html  # the first domain's motto
    rating = mine.ratings.select_related("category").get(category__code="1.3")
    description = rating.category.level_descriptions.get(level=4)
    assert description.text_zh in html
    assert "3 · 熟练" in html  # level name beside the text
    assert 'name="level-1.1" value="5"' in html
    assert 'name="industry" value="finance"' in html
    assert 'name="depth-finance" value="1"' in html
    assert f'name="revision" value="{mine.revision}"' in html
    assert 'aria-live="polite"' in html
    assert "data-msg-offline=" in html and "未保存：网络连接中断，恢复后将自动重试" in html
    # the script is a file, loaded deferred; no inline script and no inline handlers
    assert re.search(r'<script src="[^"]*js/autosave\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "css/assessment.css" in html


@pytest.mark.parametrize(
    "who", ["supervisor", "city_head", "hr", "admin", "outsider", "outsider_supervisor"]
)
def test_nobody_else_opens_or_posts_the_self_page(client, mine, personas, who):
    client = signed_in(client, personas[who])
    assert client.get(self_url(mine)).status_code == 404
    assert client.post(self_url(mine), page_data(mine)).status_code == 404
    assert autosave(client, mine, page_data(mine)).status_code == 404
    submit_url = reverse("assessments:self-submit", args=[mine.pk])
    assert client.post(submit_url, page_data(mine)).status_code == 404
    mine.refresh_from_db()
    assert mine.revision == 0 and mine.status == Assessment.Status.NOT_STARTED


def test_anonymous_is_sent_to_sign_in(client, mine):
    response = client.get(self_url(mine))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(detail_url(mine)).status_code == 302


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager", 200),
        ("supervisor", 200),
        ("city_head", 200),
        ("hr", 200),
        ("outsider", 404),
        ("outsider_supervisor", 404),
        ("admin", 404),  # assessments are HR data
    ],
)
def test_detail_page_is_for_whoever_may_see_the_assessment(client, mine, personas, who, status):
    assert signed_in(client, personas[who]).get(detail_url(mine)).status_code == status


# --- saving -------------------------------------------------------------------------------------


def test_plain_post_saves_everything_and_comes_back(client, mine, personas):
    response = signed_in(client, personas["manager"]).post(self_url(mine), page_data(mine, 4))

    assert response.status_code == 302 and response["Location"] == self_url(mine)
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SELF_IN_PROGRESS
    assert mine.revision == 1 and mine.self_saved_at and mine.self_comment == "今年的总结"
    assert set(mine.ratings.values_list("self_level", flat=True)) == {4}
    assert mine.ratings.get(category__code="2.1").self_comment == "实例 2.1"
    finance = mine.industry_ratings.get()
    assert (finance.industry.code, finance.self_depth) == ("finance", 4)
    page = client.get(self_url(mine)).content.decode()
    assert "已保存" in page and 'name="level-1.1" value="4" checked' in page


def test_autosave_answers_json_with_revision_and_time(client, mine, personas):
    client = signed_in(client, personas["manager"])
    data = page_data(mine, industries=())
    data["level-1.1"] = ""  # a draft may leave levels open

    response = autosave(client, mine, data)

    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 1
    assert re.fullmatch(r"\d\d:\d\d:\d\d", body["saved_at"])
    assert Rating.objects.get(assessment=mine, category__code="1.1").self_level is None
    assert Rating.objects.get(assessment=mine, category__code="1.2").self_level == 3
    # the next autosave carries the new revision
    response = autosave(client, mine, {**data, "revision": 1, "level-1.1": "2"})
    assert response.json()["revision"] == 2


def test_unchecking_an_industry_removes_it_and_ignores_its_fields(client, mine, personas):
    client = signed_in(client, personas["manager"])
    autosave(client, mine, page_data(mine, industries=("finance", "education")))
    data = page_data(mine, industries=("education",), revision=1)
    data["depth-finance"] = "9"  # left over in the page for an unchecked industry: not an error
    response = autosave(client, mine, data)
    assert response.status_code == 200
    assert list(mine.industry_ratings.values_list("industry__code", flat=True)) == ["education"]


def test_a_stale_revision_is_refused_and_nothing_changes(client, mine, personas):
    fill_self(mine, level=2)  # another window saved meanwhile: revision 1
    client = signed_in(client, personas["manager"])
    stale = page_data(mine, level=5, revision=0)

    response = autosave(client, mine, stale)
    assert response.status_code == 409
    assert "已被修改" in response.json()["error"]

    response = client.post(self_url(mine), {**stale, "self_comment": "我刚写的总结"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被修改" in html and "我刚写的总结" in html  # told, and what was typed is kept
    mine.refresh_from_db()
    assert mine.revision == 1
    assert set(mine.ratings.values_list("self_level", flat=True)) == {2}


def test_an_invalid_level_is_shown_next_to_the_field_and_nothing_is_saved(client, mine, personas):
    client = signed_in(client, personas["manager"])
    data = page_data(mine, **{"level-1.2": "7", "comment-1.3": "我写的说明文字"})

    response = client.post(self_url(mine), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "我写的说明文字" in html
    assert re.search(r'data-error-for="level-1.2">请选择 1 到 5 之间的等级', html)
    assert 'name="level-1.1" value="3" checked' in html  # the other choices are kept
    mine.refresh_from_db()
    assert mine.revision == 0 and mine.self_saved_at is None

    response = autosave(client, mine, data)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["level-1.2"]


def test_a_too_long_comment_is_refused(client, mine, personas):
    client = signed_in(client, personas["manager"])
    response = autosave(client, mine, page_data(mine, **{"comment-1.1": "长" * 4001}))
    assert response.status_code == 400
    assert "4000" in response.json()["errors"]["comment-1.1"][0]
    # line breaks posted as CRLF count once
    response = autosave(client, mine, page_data(mine, **{"comment-1.1": "行\r\n" * 1999}))
    assert response.status_code == 200


def test_a_missing_or_bad_revision_is_refused(client, mine, personas):
    client = signed_in(client, personas["manager"])
    data = page_data(mine)
    del data["revision"]
    assert autosave(client, mine, data).status_code == 400
    assert client.post(self_url(mine), data).status_code == 400
    mine.refresh_from_db()
    assert mine.revision == 0


# --- submit -------------------------------------------------------------------------------------


def test_submitting_an_incomplete_assessment_says_what_is_missing_and_keeps_everything(
    client, mine, personas
):
    client = signed_in(client, personas["manager"])
    data = page_data(mine, industries=(), **{"self_comment": "没写完的总结"})
    for code in ("1.3", "4.2"):
        data[f"level-{code}"] = ""

    response = client.post(reverse("assessments:self-submit", args=[mine.pk]), data)

    assert response.status_code == 400
    html = response.content.decode()
    missing = re.search(r'<section class="error missing-list".*?</section>', html, re.S).group(0)
    assert "“IT知识”的自评等级" in missing and "“创新实践”的自评等级" in missing
    assert "至少选择一个行业" in missing
    assert "信息技能" not in missing
    assert re.search(r'class="rating is-missing[^"]*" id="cat-1-3"', html)
    assert not re.search(r'class="rating is-missing[^"]*" id="cat-1-1"', html)
    assert "没写完的总结" in html and "实例 4.3" in html
    # what was posted was saved first; the page carries the new revision
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SELF_IN_PROGRESS and mine.self_comment == "没写完的总结"
    assert f'name="revision" value="{mine.revision}"' in html
    assert mine.ratings.filter(self_level=3).count() == 10


def test_submitting_a_complete_assessment_goes_to_the_detail_page(client, mine, personas):
    client = signed_in(client, personas["manager"])
    response = client.post(reverse("assessments:self-submit", args=[mine.pk]), page_data(mine))

    assert response.status_code == 302 and response["Location"] == detail_url(mine)
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SUBMITTED and mine.submitted_at
    html = client.get(detail_url(mine)).content.decode()
    assert "自评已提交" in html and "已提交自评" in html  # message and history


def test_after_submit_the_page_is_read_only_and_posts_change_nothing(client, mine, personas):
    mine = submit(mine)
    revision = mine.revision
    client = signed_in(client, personas["manager"])

    response = client.get(self_url(mine))
    assert response.status_code == 302 and response["Location"] == detail_url(mine)

    data = page_data(mine, level=1, revision=revision)
    assert autosave(client, mine, data).status_code == 400
    response = client.post(self_url(mine), data)
    assert response.status_code == 302
    response = client.post(reverse("assessments:self-submit", args=[mine.pk]), data)
    assert response.status_code == 302
    assert "不能再修改" in client.get(detail_url(mine)).content.decode()
    mine.refresh_from_db()
    assert mine.revision == revision and mine.status == Assessment.Status.SUBMITTED
    assert set(mine.ratings.values_list("self_level", flat=True)) == {3}


def test_a_closed_cycle_makes_the_page_read_only(client, mine, personas, open_cycle):
    Cycle.objects.filter(pk=open_cycle.pk).update(status=Cycle.Status.CLOSED)
    client = signed_in(client, personas["manager"])
    assert client.get(self_url(mine))["Location"] == detail_url(mine)
    assert autosave(client, mine, page_data(mine)).status_code == 400


# --- detail -------------------------------------------------------------------------------------


def test_a_returned_assessment_shows_the_reason_and_the_way_back(client, mine, personas):
    mine = submit(mine)
    return_assessment(
        assessment=mine,
        by=personas["supervisor"],
        revision=mine.revision,
        reason="请补充IT知识的实例",
    )
    client = signed_in(client, personas["manager"])

    html = client.get(detail_url(mine)).content.decode()
    assert "callout-returned" in html and "请补充IT知识的实例" in html
    assert self_url(mine) in html and "已退回" in html
    page = client.get(self_url(mine)).content.decode()
    assert "请补充IT知识的实例" in page  # and on the page the person fixes


def test_the_person_sees_supervisor_levels_only_when_final(client, mine, personas):
    mine = submit(mine)
    save_review(
        assessment=mine,
        by=personas["supervisor"],
        revision=mine.revision,
        ratings={"1.1": RatingInput(5, "主管草稿评语")},
    )
    as_manager = signed_in(client, personas["manager"]).get(detail_url(mine)).content.decode()
    assert "主管草稿评语" not in as_manager
    assert '<th scope="col">主管评价</th>' not in as_manager
    as_supervisor = signed_in(client, personas["supervisor"]).get(detail_url(mine)).content.decode()
    assert "主管草稿评语" in as_supervisor and "5 · 专家" in as_supervisor


def test_a_completed_assessment_shows_levels_classification_and_history(client, mine, personas):
    mine.refresh_from_db()
    mine = complete(submit(mine), personas["supervisor"], level=4, depth=4)

    html = signed_in(client, personas["manager"]).get(detail_url(mine)).content.decode()
    assert mine.get_classification_display() in html and "T型分类" in html
    assert "最终等级" in html and "4 · 精通" in html
    history = re.search(r'<ol class="events">.*?</ol>', html, re.S).group(0)
    assert history.index("已提交自评") < history.index("已完成评价")
    assert str(personas["supervisor"]) in history


# --- a fixed number of queries ------------------------------------------------------------------


def _small_model(hr, version):
    """The default model cut down to one domain with three categories."""
    data = export_version(version)
    data["domains"] = data["domains"][:1]
    data["domains"][0]["categories"] = data["domains"][0]["categories"][:3]
    kept = {c["code"] for c in data["domains"][0]["categories"]}
    for grade in data["grades"]:
        grade["targets"] = {code: v for code, v in grade["targets"].items() if code in kept}
        grade["breadth"] = None
    small = import_model_data(data, by=hr)
    publish_version(version=small, by=hr)
    return small


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_self_page_takes_the_same_queries_whatever_the_model_size(
    client, mine, personas, hr, model_version, django_assert_max_num_queries
):
    small = _small_model(hr, model_version)
    cycle = Cycle.objects.create(
        name="小模型",
        model_version=small,
        self_deadline=date(2026, 12, 15),
        review_deadline=date(2026, 12, 31),
        created_by=hr,
    )
    cycle.participant_people.add(personas["manager"])
    open_cycle_service(cycle=cycle, by=hr)
    other = Assessment.objects.get(cycle=cycle)
    assert other.ratings.count() == 3 and mine.ratings.count() == 12
    fill_self(mine, industries={})
    fill_self(other, industries={})
    client = signed_in(client, personas["manager"])

    assert _queries(client, self_url(other)) == _queries(client, self_url(mine))
    with django_assert_max_num_queries(14):
        client.get(self_url(mine))
    assert _queries(client, detail_url(other)) == _queries(client, detail_url(mine))


def test_json_of_autosave_is_plain(client, mine, personas):
    response = autosave(signed_in(client, personas["manager"]), mine, page_data(mine))
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"revision", "saved_at"}


def test_missing_fields_are_worked_out_when_the_service_names_none(mine):
    data = page_data(mine, industries=("finance",), **{"level-2.2": "", "depth-finance": ""})
    form = SelfAssessmentForm(data, sheet=assessment_sheet(mine))
    assert form.is_valid(), form.errors
    form.mark_missing(["“问题分析与处理”的自评等级"])  # plain strings: no field attached
    assert form.missing == {"level-2.2", "depth-finance"}
