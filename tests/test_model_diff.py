"""The diff between a draft and the version it came from: content per kind of change, the publish
page (diff, problems, affected cycles) and the diff stored with the publish record."""

import copy
import json

import pytest
from django.urls import reverse

from competency.diff import diff_documents, display_rows, summarize
from competency.exchange import export_version, import_model_data
from competency.models import LevelDescription, ModelVersionEvent
from competency.services import create_draft_from, publish_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(model_version):
    return export_version(model_version)


def changed(doc, edit):
    new = copy.deepcopy(doc)
    edit(new)
    return diff_documents(doc, new)


def kinds(changes):
    return [(c["part"], c["change"], c["code"]) for c in changes]


def category(doc, code):
    return next(c for d in doc["domains"] for c in d["categories"] if c["code"] == code)


def grade(doc, code):
    return next(g for g in doc["grades"] if g["code"] == code)


def test_identical_documents_have_no_changes(doc):
    assert diff_documents(doc, copy.deepcopy(doc)) == []


def test_version_name_and_thresholds(doc):
    def edit(d):
        d["version"]["name"]["en"] = "2027 model"
        d["classification"]["breadth_count"] = 9

    changes = changed(doc, edit)
    assert kinds(changes) == [
        ("version", "renamed", None),
        ("classification", "threshold", "breadth_count"),
    ]
    assert (changes[1]["old"], changes[1]["new"]) == (10, 9)


def test_level_names_and_depth_levels(doc):
    def edit(d):
        d["levels"][3]["name"]["en"] = "Advanced+"
        d["depth_levels"][2]["name"]["zh-hans"] = "基本"
        d["depth_levels"][2]["description"]["en"] = "Writes a SWOT."

    changes = changed(doc, edit)
    assert kinds(changes) == [
        ("level", "renamed", "4"),
        ("depth_level", "renamed", "3"),
        ("depth_level", "redescribed", "3"),
    ]
    assert changes[0]["old"]["en"] == "Advanced" and changes[0]["new"]["en"] == "Advanced+"
    assert changes[2]["field"] == "description"


def test_domains_added_removed_renamed_remottoed_reordered(doc):
    def edit(d):
        d["domains"][0]["name"]["zh-hans"] = "营销与服务"
        d["domains"][1]["motto"]["en"] = "A new motto"
        d["domains"].append(
            {
                "code": "5",
                "name": {"zh-hans": "数字化", "en": "Digital"},
                "motto": {"zh-hans": "", "en": ""},
                "categories": [],
            }
        )
        removed = d["domains"].pop(2)  # 3 团队协作, its categories go to domain 4
        d["domains"][2]["categories"][:0] = removed["categories"]
        d["domains"][0], d["domains"][1] = d["domains"][1], d["domains"][0]

    changes = [c for c in changed(doc, edit) if c["part"] == "domain"]
    assert kinds(changes) == [
        ("domain", "added", "5"),
        ("domain", "removed", "3"),
        ("domain", "redescribed", "2"),  # in the new document's order
        ("domain", "renamed", "1"),
        ("domain", "reordered", None),
    ]
    assert changes[2]["field"] == "motto"
    assert changes[4]["old"] == ["1", "2", "4"] and changes[4]["new"] == ["2", "1", "4"]


def test_categories_added_removed_renamed_redescribed_moved_reordered(doc):
    def edit(d):
        category(d, "1.3")["name"]["en"] = "IT & digital"
        category(d, "1.4")["description"]["zh-hans"] = "新的说明"
        moved = d["domains"][3]["categories"].pop(1)  # 4.2 → domain 2
        d["domains"][1]["categories"].append(moved)
        d["domains"][2]["categories"].pop()  # 3.2 removed
        d["domains"][0]["categories"].append({**copy.deepcopy(category(d, "1.1")), "code": "1.6"})
        cats = d["domains"][0]["categories"]
        cats[0], cats[1] = cats[1], cats[0]

    changes = [c for c in changed(doc, edit) if c["part"] == "category"]
    assert kinds(changes) == [
        ("category", "added", "1.6"),
        ("category", "removed", "3.2"),
        ("category", "renamed", "1.3"),
        ("category", "redescribed", "1.4"),
        ("category", "moved", "4.2"),
        ("category", "reordered", "1"),
    ]
    assert (changes[4]["old"], changes[4]["new"]) == ("4", "2")
    assert changes[5]["new"][:2] == ["1.2", "1.1"]


def test_level_texts_are_listed_per_level_with_both_languages(doc):
    def edit(d):
        category(d, "2.1")["levels"]["3"] = {"zh-hans": "新的中文", "en": "New English"}

    (change,) = changed(doc, edit)
    assert (change["part"], change["change"], change["code"], change["field"]) == (
        "category",
        "level_text",
        "2.1",
        "3",
    )
    assert change["new"] == {"zh-hans": "新的中文", "en": "New English"}
    assert change["old"] == category(doc, "2.1")["levels"]["3"]


def test_industries(doc):
    def edit(d):
        d["industries"][0]["name"]["en"] = "Public sector"
        d["industries"].pop(1)
        d["industries"].append({"code": "tourism", "name": {"zh-hans": "文旅", "en": "Tourism"}})
        d["industries"][1], d["industries"][2] = d["industries"][2], d["industries"][1]

    assert kinds(changed(doc, edit)) == [
        ("industry", "added", "tourism"),
        ("industry", "removed", doc["industries"][1]["code"]),
        ("industry", "renamed", "government"),
        ("industry", "reordered", None),
    ]


def test_grades_targets_depth_breadth_validity(doc):
    def edit(d):
        grade(d, "G3")["targets"]["1.3"] = 4
        grade(d, "G3")["depth"] = 3
        grade(d, "G2")["depth_industries"] = 2
        grade(d, "G2")["breadth"] = {"count": 6, "level": 3}
        grade(d, "G5")["validity_months"] = 36
        grade(d, "G1")["name"]["zh-hans"] = "初级客户经理"
        d["grades"].pop(3)
        d["grades"].append({**copy.deepcopy(grade(d, "G1")), "code": "G0"})

    changes = changed(doc, edit)
    assert kinds(changes) == [
        ("grade", "added", "G0"),
        ("grade", "removed", "G4"),
        ("grade", "renamed", "G1"),
        ("grade", "depth", "G2"),
        ("grade", "breadth", "G2"),
        ("grade", "target", "G3"),
        ("grade", "depth", "G3"),
        ("grade", "validity", "G5"),
    ]
    assert (changes[3]["field"], changes[3]["old"], changes[3]["new"]) == ("depth_industries", 1, 2)
    assert changes[4]["old"] is None and changes[4]["new"] == {"count": 6, "level": 3}
    target = changes[5]
    assert (target["field"], target["old"], target["new"]) == ("1.3", 3, 4)
    assert (changes[6]["field"], changes[6]["old"], changes[6]["new"]) == ("depth", 2, 3)
    assert (changes[7]["old"], changes[7]["new"]) == (24, 36)


def test_a_new_category_shows_the_level_each_grade_requires_in_it(doc):
    def edit(d):
        d["domains"][0]["categories"].append({**copy.deepcopy(category(d, "1.1")), "code": "1.6"})
        for g in d["grades"]:
            g["targets"]["1.6"] = 1

    changes = changed(doc, edit)
    assert kinds(changes)[0] == ("category", "added", "1.6")
    targets = [c for c in changes if c["change"] == "target"]
    assert [(t["code"], t["field"], t["old"], t["new"]) for t in targets][0] == (
        "G1",
        "1.6",
        None,
        1,
    )
    assert len(targets) == len(doc["grades"])


def test_the_diff_is_json_and_reads_as_words(doc):
    def edit(d):
        category(d, "1.1")["levels"]["5"]["en"] = "Leads."
        grade(d, "G4")["breadth"] = None
        d["classification"]["depth_level"] = 5

    changes = changed(doc, edit)
    assert json.loads(json.dumps(changes)) == changes
    rows = display_rows(changes)
    assert {r["change"] for r in rows} == {"阈值修改", "等级行为描述修改", "广度要求修改"}
    breadth = next(r for r in rows if r["kind"] == "breadth")
    assert breadth["old"] == "至少 10 类 ≥ 3" and breadth["new"] == "—"
    text = next(r for r in rows if r["kind"] == "level_text")
    assert text["detail"] == "等级 5" and "Leads." in text["new"]
    assert summarize(changes) == {"threshold": 1, "level_text": 1, "breadth": 1}


# --- publishing ------------------------------------------------------------------------------------


def test_publish_page_shows_the_diff_problems_and_cycles_that_could_adopt_it(
    client, admin_user, model_version, draft_cycle
):
    draft = create_draft_from(source=model_version, by=admin_user)
    LevelDescription.objects.filter(category__version=draft, category__code="1.5", level=2).update(
        text_en="Handles a complaint with a script."
    )
    client.force_login(admin_user)
    page = client.get(reverse("competency:version-publish", args=[draft.number]))
    html = page.content.decode()
    assert "与来源版本 v1 相比共有 1 处变化" in html
    assert "Handles a complaint with a script." in html and "等级行为描述修改" in html
    assert draft_cycle.name in html and "当前使用 v1" in html
    assert 'id="publish-button"' in html
    LevelDescription.objects.filter(category__version=draft, category__code="1.5", level=2).update(
        text_zh=""
    )
    html = client.get(reverse("competency:version-publish", args=[draft.number])).content.decode()
    assert "levels.2.zh-hans" in html and 'id="publish-button"' not in html


def test_publishing_stores_the_diff_and_changes_no_cycle(
    client, admin_user, model_version, open_cycle
):
    draft = create_draft_from(source=model_version, by=admin_user)
    draft.categories.filter(code="3.1").update(name_en="Teamwork & collaboration")
    client.force_login(admin_user)
    html = client.get(reverse("competency:version-publish", args=[draft.number])).content.decode()
    assert "保持不变" in html  # the open cycle on v1 keeps its version
    response = client.post(
        reverse("competency:version-publish", args=[draft.number]), {"note": "年度调整"}
    )
    assert response.status_code == 302
    event = draft.events.get(action=ModelVersionEvent.Action.PUBLISHED)
    assert (event.actor, event.note, event.details["compared_with"]) == (admin_user, "年度调整", 1)
    assert kinds(event.details["diff"]) == [("category", "renamed", "3.1")]
    open_cycle.refresh_from_db()
    assert open_cycle.model_version_id == model_version.pk
    detail = client.get(reverse("competency:version-detail", args=[draft.number])).content.decode()
    assert "本版本相对 v1 的变化" in detail and "Teamwork &amp; collaboration" in detail


def test_an_imported_draft_is_compared_with_the_latest_published_version(admin_user, model_version):
    data = export_version(model_version)
    data["grades"][0]["validity_months"] = 12
    draft = import_model_data(data, by=admin_user)
    publish_version(version=draft, by=admin_user, note="")
    event = draft.events.get(action="published")
    assert event.details["compared_with"] == 1
    assert kinds(event.details["diff"]) == [("grade", "validity", "G1")]


def test_the_first_version_has_nothing_to_compare_with(model_version):
    event = model_version.events.get(action="published")
    assert event.details == {"compared_with": None, "diff": []}


def test_publish_page_of_a_published_version_sends_back_to_its_page(
    client, admin_user, model_version
):
    client.force_login(admin_user)
    response = client.get(reverse("competency:version-publish", args=[1]))
    assert response["Location"] == reverse("competency:version-detail", args=[1])
