"""The supervisor's pages: the team list, the review sheet, save, return and complete."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Assessment, AssessmentEvent, Cycle, Evidence, Rating
from assessments.services import add_participants
from assessments.services import open_cycle as open_cycle_service

from .assessment_helpers import codes, review, submit
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def mine(cycle, user) -> Assessment:
    return Assessment.objects.get(cycle=cycle, person=user)


def fresh(assessment) -> Assessment:
    return Assessment.objects.get(pk=assessment.pk)


def listed(response) -> set[str]:
    """Usernames of the people in the list's rows."""
    html = response.content.decode()
    return {part.split('"', 1)[0] for part in html.split('data-person="')[1:]}


def review_data(assessment, level=3, depth=4, comment="", **overrides) -> dict:
    """The review form as the page posts it: every category and industry of ``assessment``."""
    data = {"revision": assessment.revision, "supervisor_comment": "总体表现稳定"}
    for code in codes(assessment):
        data[f"level-{code}"] = level
        data[f"comment-{code}"] = comment
    for r in assessment.industry_ratings.select_related("industry"):
        data[f"depth-{r.industry.code}"] = depth
    data.update(overrides)
    return data


@pytest.fixture
def submitted(open_cycle, personas) -> Assessment:
    """The team A manager's assessment, self-rated 3 everywhere (finance depth 4) and submitted."""
    return submit(mine(open_cycle, personas["manager"]))


def as_user(client, user):
    client.force_login(user)
    return client


# --- the list -----------------------------------------------------------------------------------


def test_supervisor_lists_the_team_not_the_outsider_nor_themself(client, open_cycle, personas):
    response = as_user(client, personas["supervisor"]).get(reverse("assessments:review-list"))
    assert response.status_code == 200
    assert listed(response) == {"manager"}


def test_city_head_lists_the_whole_subtree(client, open_cycle, personas):
    response = as_user(client, personas["city_head"]).get(reverse("assessments:review-list"))
    assert listed(response) == {"manager", "supervisor"}


def test_outsider_supervisor_lists_only_the_outsider(client, open_cycle, personas):
    response = as_user(client, personas["outsider_supervisor"]).get(
        reverse("assessments:review-list")
    )
    assert listed(response) == {"outsider"}


@pytest.mark.parametrize("persona", ["manager", "outsider", "hr"])
def test_people_who_do_not_review_get_403_on_the_list(client, open_cycle, personas, persona):
    response = as_user(client, personas[persona]).get(reverse("assessments:review-list"))
    assert response.status_code == 403


def test_the_list_needs_sign_in(client, open_cycle):
    response = client.get(reverse("assessments:review-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_status_filter_and_counts(client, open_cycle, personas, submitted):
    url = reverse("assessments:review-list")
    client = as_user(client, personas["city_head"])
    response = client.get(url, {"status": Assessment.Status.SUBMITTED})
    assert listed(response) == {"manager"}
    counts = {c["value"]: c["count"] for c in response.context["counts"]}
    # the counts ignore the status filter itself: one submitted, one not started
    assert counts[Assessment.Status.SUBMITTED] == 1
    assert counts[Assessment.Status.NOT_STARTED] == 1
    assert listed(client.get(url, {"status": Assessment.Status.NOT_STARTED})) == {"supervisor"}
    html = response.content.decode()
    assert reverse("assessments:review", args=[submitted.pk]) in html
    # the count links keep the other filters and swap the status
    assert 'href="?status=returned"' in html


def test_unit_filter_stays_inside_the_scope(client, open_cycle, personas, org):
    url = reverse("assessments:review-list")
    client = as_user(client, personas["city_head"])
    assert listed(client.get(url, {"unit": org["A"].pk})) == {"manager", "supervisor"}
    # team B is not the city head's: the filter is ignored, nothing outside the scope appears
    outside = client.get(url, {"unit": org["B"].pk})
    assert listed(outside) == {"manager", "supervisor"}
    assert outside.context["filters"].unit is None
    assert listed(client.get(url, {"unit": "nonsense"})) == {"manager", "supervisor"}


def test_search_by_name_or_employee_number(client, open_cycle, personas):
    url = reverse("assessments:review-list")
    client = as_user(client, personas["city_head"])
    manager = personas["manager"]
    assert listed(client.get(url, {"q": manager.employee_no})) == {"manager"}
    assert listed(client.get(url, {"q": manager.display_name})) == {"manager"}
    assert listed(client.get(url, {"q": "没有这个人"})) == set()


def test_default_cycle_is_the_newest_open_one_and_all_cycles_shows_both(
    client, open_cycle, personas, model_version, hr, org
):
    newer = Cycle.objects.create(
        name="2027 年度评估",
        model_version=model_version,
        self_deadline=date(2027, 12, 15),
        review_deadline=date(2027, 12, 31),
        created_by=hr,
    )
    newer.participant_units.add(org["A"])
    url = reverse("assessments:review-list")
    client = as_user(client, personas["supervisor"])
    # the newer cycle is still a draft: the open one stays the default
    assert client.get(url).context["filters"].cycle == open_cycle
    open_cycle_service(cycle=newer, by=hr)
    response = client.get(url)
    assert response.context["filters"].cycle == newer
    assert len(response.context["page"].object_list) == 1
    everything = client.get(url, {"cycle": "all"})
    assert [a.cycle for a in everything.context["page"]] == [newer, open_cycle]


def test_late_marker(client, open_cycle, personas, submitted):
    url = reverse("assessments:review-list")
    client = as_user(client, personas["supervisor"])
    assert "已逾期" not in client.get(url).content.decode()
    Cycle.objects.filter(pk=open_cycle.pk).update(
        self_deadline=date(2020, 1, 1), review_deadline=date(2020, 1, 2)
    )
    assert "已逾期" in client.get(url).content.decode()


def test_the_list_takes_a_fixed_number_of_queries(client, draft_cycle, personas, org, hr):
    """5 assessments or 30: the same number of queries."""
    UserFactory.create_batch(4, org_unit=org["A"], roles=["manager"])
    open_cycle_service(cycle=draft_cycle, by=hr)
    client = as_user(client, personas["supervisor"])
    url = reverse("assessments:review-list")
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert len(response.context["page"].object_list) == 5
    more = UserFactory.create_batch(25, org_unit=org["A"], roles=["manager"])
    add_participants(cycle=draft_cycle, people=more, by=hr)
    for a in Assessment.objects.filter(person__in=more[:5]):
        submit(a)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["page"].object_list) == 30
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- who may open a review ----------------------------------------------------------------------

REVIEW_URLS = ["assessments:review", "assessments:review-return", "assessments:review-complete"]


@pytest.mark.parametrize("url_name", REVIEW_URLS)
@pytest.mark.parametrize("persona", ["manager", "outsider", "outsider_supervisor", "hr", "admin"])
def test_review_is_404_for_anyone_who_does_not_rate_the_person(
    client, submitted, personas, persona, url_name
):
    client = as_user(client, personas[persona])
    url = reverse(url_name, args=[submitted.pk])
    assert client.post(url, review_data(submitted, reason="x")).status_code == 404
    if url_name == "assessments:review":
        assert client.get(url).status_code == 404
    assessment = fresh(submitted)
    assert assessment.status == Assessment.Status.SUBMITTED
    assert assessment.revision == submitted.revision


def test_a_head_never_reviews_themself_nor_a_peer_head(client, open_cycle, personas, org):
    supervisor = personas["supervisor"]
    peer = UserFactory(username="peerhead", org_unit=org["A"], roles=["supervisor"])
    org["A"].heads.add(peer)
    own = submit(mine(open_cycle, supervisor))
    url = reverse("assessments:review", args=[own.pk])
    assert as_user(client, supervisor).get(url).status_code == 404
    assert as_user(client, peer).get(url).status_code == 404
    # the head above rates the head
    assert as_user(client, personas["city_head"]).get(url).status_code == 200


def test_an_unsubmitted_assessment_sends_the_supervisor_to_the_detail_page(
    client, open_cycle, personas
):
    assessment = mine(open_cycle, personas["manager"])
    response = as_user(client, personas["supervisor"]).get(
        reverse("assessments:review", args=[assessment.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:detail", args=[assessment.pk])


# --- the review sheet ---------------------------------------------------------------------------


def test_the_sheet_shows_self_ratings_evidence_and_the_level_words(
    client, submitted, personas, django_assert_max_num_queries
):
    rating = submitted.ratings.select_related("category").get(category__code="1.3")
    Rating.objects.filter(pk=rating.pk).update(self_comment="熟悉客户机房网络")
    evidence = Evidence.objects.create(
        assessment=submitted,
        category=rating.category,
        file="evidence/x/abc.pdf",
        original_name="客户网络拓扑.pdf",
        content_type="application/pdf",
        size=2048,
        uploaded_by=personas["manager"],
    )
    client = as_user(client, personas["supervisor"])
    url = reverse("assessments:review", args=[submitted.pk])
    client.get(url)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "熟悉客户机房网络" in html and "客户网络拓扑.pdf" in html
    assert reverse("assessments:evidence-download", args=[evidence.pk]) in html
    for word in ["了解", "基础", "熟练", "精通", "专家", "信息技能", "职业规划", "金融", "SWOT"]:
        assert word in html
    assert 'name="level-1.1"' in html and 'name="depth-finance"' in html
    assert f'name="revision" value="{submitted.revision}"' in html
    # domain order, then category order
    sheet = response.context["sheet"]
    assert [r.category.code for r in sheet.categories] == codes(submitted)


def test_save_stores_the_supervisor_ratings(client, submitted, personas):
    data = review_data(submitted, level=4, depth=3, comment="有进步")
    response = as_user(client, personas["supervisor"]).post(
        reverse("assessments:review", args=[submitted.pk]), data
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:review", args=[submitted.pk])
    assessment = fresh(submitted)
    assert assessment.status == Assessment.Status.SUBMITTED
    assert assessment.supervisor_comment == "总体表现稳定"
    assert set(assessment.ratings.values_list("supervisor_level", "supervisor_comment")) == {
        (4, "有进步")
    }
    assert list(assessment.industry_ratings.values_list("supervisor_depth", flat=True)) == [3]


def test_bad_input_keeps_what_was_typed_and_saves_nothing(client, submitted, personas):
    data = review_data(submitted, **{"level-1.1": "9", "comment-1.2": "保留这段评语"})
    response = as_user(client, personas["supervisor"]).post(
        reverse("assessments:review", args=[submitted.pk]), data
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "保留这段评语" in html and "请选择 1 到 5 之间的等级" in html
    assert not fresh(submitted).ratings.filter(supervisor_level__isnull=False).exists()


def test_a_stale_page_is_told_so_and_overwrites_nothing(client, submitted, personas):
    supervisor = personas["supervisor"]
    old_revision = submitted.revision
    review(submitted, supervisor, level=2)  # someone saved meanwhile
    data = review_data(submitted, level=5, comment="我刚写的评语", revision=old_revision)
    response = as_user(client, supervisor).post(
        reverse("assessments:review", args=[submitted.pk]), data
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被修改" in html and "我刚写的评语" in html
    assert 'value="5" checked' in html
    assert set(fresh(submitted).ratings.values_list("supervisor_level", flat=True)) == {2}


def test_a_difference_of_two_is_highlighted_and_needs_a_comment(client, submitted, personas):
    client = as_user(client, personas["supervisor"])
    data = review_data(submitted, level=3, **{"level-1.3": 5})
    response = client.post(reverse("assessments:review-complete", args=[submitted.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "“IT知识”的评语" in html  # the missing list names the category
    row = next(r for r in response.context["sheet"].categories if r.category.code == "1.3")
    assert row.needs_comment and row.missing_comment and row.difference == 2
    assert 'id="category-1.3"' in html and "review-gap" in html
    assessment = fresh(submitted)
    assert assessment.status == Assessment.Status.SUBMITTED
    # what was typed was saved before completion was refused
    assert assessment.ratings.get(category__code="1.3").supervisor_level == 5
    assert f'name="revision" value="{assessment.revision}"' in html

    page = client.get(reverse("assessments:review", args=[submitted.pk]))
    assert "必须填写评语" in page.content.decode()
    flagged = [r.category.code for r in page.context["sheet"].categories if r.needs_comment]
    assert flagged == ["1.3"]


def test_the_compare_view_shows_supervisor_minus_self(client, submitted, personas):
    review(submitted, personas["supervisor"], level=3)
    Rating.objects.filter(assessment=submitted, category__code="2.1").update(supervisor_level=1)
    Rating.objects.filter(assessment=submitted, category__code="4.1").update(supervisor_level=4)
    response = as_user(client, personas["supervisor"]).get(
        reverse("assessments:review", args=[submitted.pk])
    )
    diffs = {r.category.code: r.difference for r in response.context["sheet"].categories}
    assert diffs["2.1"] == -2 and diffs["4.1"] == 1 and diffs["1.1"] == 0
    assert response.context["sheet"].compare_summary == {"over": 1, "under": 1, "same": 10}
    html = response.content.decode()
    assert 'class="diff-neg-2"' in html and 'class="diff-pos-1"' in html


def test_return_needs_a_reason(client, submitted, personas):
    response = as_user(client, personas["supervisor"]).post(
        reverse("assessments:review-return", args=[submitted.pk]),
        {"reason": "   ", "revision": submitted.revision},
    )
    assert response.status_code == 400
    assert "退回时必须填写原因" in response.content.decode()
    assert fresh(submitted).status == Assessment.Status.SUBMITTED


def test_return_with_a_reason_records_it_and_saves_nothing_else(client, submitted, personas):
    response = as_user(client, personas["supervisor"]).post(
        reverse("assessments:review-return", args=[submitted.pk]),
        {"reason": "请补充行业分析", "revision": submitted.revision, "level-1.1": "5"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:review-list")
    assessment = fresh(submitted)
    assert assessment.status == Assessment.Status.RETURNED
    event = assessment.events.get(action=AssessmentEvent.Action.RETURNED)
    assert event.note == "请补充行业分析" and event.actor == personas["supervisor"]
    assert not assessment.ratings.filter(supervisor_level__isnull=False).exists()


def test_complete_stores_final_levels_and_shows_the_classification(client, submitted, personas):
    response = as_user(client, personas["supervisor"]).post(
        reverse("assessments:review-complete", args=[submitted.pk]), review_data(submitted)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:detail", args=[submitted.pk])
    assessment = fresh(submitted)
    assert assessment.status == Assessment.Status.COMPLETED
    assert assessment.reviewer == personas["supervisor"]
    assert set(assessment.ratings.values_list("final_level", flat=True)) == {3}
    assert list(assessment.industry_ratings.values_list("final_depth", flat=True)) == [4]
    assert assessment.classification == "t"
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("T型" in m for m in shown)


def test_a_completed_assessment_accepts_no_more_posts(client, submitted, personas):
    client = as_user(client, personas["supervisor"])
    client.post(reverse("assessments:review-complete", args=[submitted.pk]), review_data(submitted))
    done = fresh(submitted)
    before = list(done.ratings.order_by("pk").values_list("supervisor_level", "final_level"))
    changed = review_data(done, level=1, comment="改一下")
    for name in ["assessments:review", "assessments:review-complete"]:
        response = client.post(reverse(name, args=[done.pk]), changed)
        assert response.status_code == 409
    response = client.post(
        reverse("assessments:review-return", args=[done.pk]),
        {"reason": "再改改", "revision": done.revision},
    )
    assert response.status_code == 409
    after = fresh(done)
    assert after.status == Assessment.Status.COMPLETED and after.revision == done.revision
    assert (
        list(after.ratings.order_by("pk").values_list("supervisor_level", "final_level")) == before
    )
    page = client.get(reverse("assessments:review", args=[done.pk]))
    assert page.status_code == 200 and 'id="review-complete"' not in page.content.decode()
