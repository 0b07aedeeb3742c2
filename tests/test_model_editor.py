"""The model editor: editing rules, published versions untouched by every editor path,
permissions, and fixed query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competency.exchange import export_version, validate_model_data
from competency.models import (
    Category,
    GradeTarget,
    LevelDescription,
    ModelVersion,
)
from competency.services import create_draft_from, publish_version

pytestmark = pytest.mark.django_db

EDITOR_PAGES = [
    "competency:version-edit",
    "competency:domain-edit",
    "competency:category-list",
    "competency:category-add",
    "competency:level-edit",
    "competency:industry-edit",
    "competency:grade-edit",
    "competency:target-edit",
]


@pytest.fixture
def draft(model_version, admin_user):
    return create_draft_from(source=model_version, by=admin_user)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def form_data(form) -> dict:
    """What the browser would post back for an unchanged form or formset."""
    data: dict = {}
    forms = [form]
    if hasattr(form, "management_form"):
        forms = [form.management_form, *form.forms]
    for each in forms:
        for field in each:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
                continue
            data[field.html_name] = "" if value is None else value
    return data


def get_form(client, url, key="form"):
    response = client.get(url)
    assert response.status_code == 200
    return response.context[key]


def row_of(formset, **match):
    return next(
        f for f in formset.forms if all(getattr(f.instance, k) == v for k, v in match.items())
    )


# --- the version's name and thresholds -------------------------------------------------------------


def test_draft_name_and_thresholds_are_edited(admin_client, draft):
    url = reverse("competency:version-edit", args=[draft.number])
    data = form_data(get_form(admin_client, url))
    data.update(name_zh="2027 年度模型", name_en="2027 model", breadth_count="9", depth_level="5")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name_zh, draft.name_en, draft.breadth_count, draft.depth_level) == (
        "2027 年度模型",
        "2027 model",
        9,
        5,
    )


def test_threshold_rules_are_checked_with_messages(admin_client, draft):
    url = reverse("competency:version-edit", args=[draft.number])
    data = form_data(get_form(admin_client, url))
    data.update(breadth_count="13", breadth_floor="4", breadth_level="3", name_en="")
    page = admin_client.post(url, data).content.decode()
    assert "广度达标类别数应在 1 到类别总数 12 之间。" in page
    assert "广度最低等级不能高于广度达标等级。" in page
    draft.refresh_from_db()
    assert draft.breadth_count == 10 and draft.name_en


def test_the_draft_page_lists_what_blocks_publishing(admin_client, draft):
    LevelDescription.objects.filter(category__version=draft, category__code="2.1", level=4).update(
        text_zh=""
    )
    page = admin_client.get(reverse("competency:version-edit", args=[draft.number]))
    assert "domains[1].categories[0].levels.4.zh-hans" in page.content.decode()
    assert page.context["problems"] == validate_model_data(export_version(draft))


# --- domains ---------------------------------------------------------------------------------------


def test_domains_are_added_renamed_reordered_and_removed(admin_client, draft, admin_user):
    url = reverse("competency:domain-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    team, learning = row_of(formset, code="3"), row_of(formset, code="4")
    data[team["name_zh"].html_name] = "团队与协作"
    data[team["motto_en"].html_name] = "A team that wins together"
    data[learning["order"].html_name] = "0"  # first
    new = formset.forms[-1]
    data.update(
        {
            new["code"].html_name: "5",
            new["name_zh"].html_name: "数字化",
            new["name_en"].html_name: "Digital",
        }
    )
    assert admin_client.post(url, data).status_code == 302
    domains = list(draft.domains.order_by("order").values_list("code", "order", "name_zh"))
    assert domains == [
        ("4", 1, "学习创新"),
        ("1", 2, "营销服务"),
        ("2", 3, "工作管理"),
        ("3", 4, "团队与协作"),
        ("5", 5, "数字化"),
    ]
    assert draft.domains.get(code="3").motto_en == "A team that wins together"
    # An empty domain can go; the draft is complete again.
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="5")["DELETE"].html_name] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert not draft.domains.filter(code="5").exists()
    assert validate_model_data(export_version(draft)) == []


def test_a_domain_with_categories_is_not_removed(admin_client, draft):
    url = reverse("competency:domain-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="2")["DELETE"].html_name] = "on"
    page = admin_client.post(url, data).content.decode()
    assert "下还有能力类别：请先移走或删除这些类别。" in page
    assert draft.domains.filter(code="2").exists() and draft.categories.count() == 12


def test_domain_codes_stay_unique_but_can_be_swapped(admin_client, draft):
    url = reverse("competency:domain-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="2")["code"].html_name] = "1"
    page = admin_client.post(url, data).content.decode()
    assert "编码“1”重复。" in page
    one, two = row_of(formset, code="1"), row_of(formset, code="2")
    data[one["code"].html_name], data[two["code"].html_name] = "2", "1"
    assert admin_client.post(url, data).status_code == 302
    assert draft.domains.get(code="1").name_zh == "工作管理"
    assert draft.domains.get(code="2").name_zh == "营销服务"


# --- categories --------------------------------------------------------------------------------------


def test_categories_move_between_domains_and_reorder(admin_client, draft):
    url = reverse("competency:category-list", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    innovation = row_of(formset, code="4.2")
    data[innovation["domain"].html_name] = str(draft.domains.get(code="2").pk)
    data[innovation["order"].html_name] = "0"
    data[row_of(formset, code="1.3")["name_en"].html_name] = "IT & digital knowledge"
    assert admin_client.post(url, data).status_code == 302
    codes = [c["code"] for c in export_version(draft)["domains"][1]["categories"]]
    assert codes == ["4.2", "2.1", "2.2"]
    assert draft.categories.get(code="1.3").name_en == "IT & digital knowledge"
    assert list(
        draft.categories.filter(domain__code="4").order_by("order").values_list("code", "order")
    ) == [("4.1", 1), ("4.3", 2)]


def test_removing_a_category_removes_its_texts_and_targets(admin_client, draft):
    url = reverse("competency:category-list", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="3.2")["DELETE"].html_name] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert draft.categories.count() == 11
    assert not LevelDescription.objects.filter(version=draft, category__code="3.2").exists()
    assert GradeTarget.objects.filter(version=draft).count() == 5 * 11
    assert validate_model_data(export_version(draft)) == []


def test_a_new_category_needs_every_level_text_and_gets_default_targets(admin_client, draft):
    url = reverse("competency:category-add", args=[draft.number])
    data = {
        "domain": str(draft.domains.get(code="4").pk),
        "code": "4.4",
        "name_zh": "数字化转型",
        "name_en": "Digital transformation",
        "description_zh": "理解客户的数字化转型。",
        "description_en": "Understanding the customer's digital transformation.",
    }
    for level in range(1, 6):
        data[f"level_{level}_zh"] = f"中文 {level}"
        data[f"level_{level}_en"] = f"English {level}"
    data["level_3_en"] = "  "
    page = admin_client.post(url, {**data, "code": "1.1"}).content.decode()
    assert "等级 3 的行为描述（英文）不能为空。" in page
    assert "编码“1.1”已被其他类别使用。" in page
    data["level_3_en"] = "English 3"
    assert admin_client.post(url, data).status_code == 302
    category = draft.categories.get(code="4.4")
    assert category.order == 4 and category.level_descriptions.count() == 5
    assert set(category.targets.values_list("min_level", flat=True)) == {1}
    assert category.targets.count() == draft.grades.count()
    assert validate_model_data(export_version(draft)) == []


def test_level_descriptions_are_edited_in_both_languages(admin_client, draft, model_version):
    category = draft.categories.get(code="1.2")
    url = reverse("competency:category-edit", args=[draft.number, category.pk])
    data = form_data(get_form(admin_client, url))
    data.update(level_2_zh="能在指导下完成需求调研。", level_2_en="Researches needs with guidance.")
    data["description_en"] = "Consultative selling, reworded."
    assert admin_client.post(url, data).status_code == 302
    level = category.level_descriptions.get(level=2)
    assert (level.text_zh, level.text_en) == (
        "能在指导下完成需求调研。",
        "Researches needs with guidance.",
    )
    assert Category.objects.get(pk=category.pk).description_en == "Consultative selling, reworded."
    source = LevelDescription.objects.get(
        category__version=model_version, category__code="1.2", level=2
    )
    assert source.text_zh != level.text_zh
    data["level_5_zh"] = ""
    page = admin_client.post(url, data).content.decode()
    assert "等级 5 的行为描述（中文）不能为空。" in page
    assert category.level_descriptions.get(level=5).text_zh


# --- scales, industries, grades and targets ------------------------------------------------------


def test_level_and_depth_names_are_edited(admin_client, draft):
    url = reverse("competency:level-edit", args=[draft.number])
    data = form_data(get_form(admin_client, url))
    data.update(level_4_name_en="Advanced+", depth_3_description_zh="能写出客户视角的 SWOT。")
    assert admin_client.post(url, data).status_code == 302
    assert draft.levels.get(value=4).name_en == "Advanced+"
    assert draft.depth_levels.get(value=3).description_zh == "能写出客户视角的 SWOT。"
    data["level_1_name_zh"] = ""
    assert admin_client.post(url, data).status_code == 200
    assert draft.levels.get(value=1).name_zh == "了解"


def test_industries_are_added_renamed_and_removed(admin_client, draft):
    url = reverse("competency:industry-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="government")["name_en"].html_name] = "Public sector"
    data[row_of(formset, code="finance")["DELETE"].html_name] = "on"
    new = formset.forms[-1]
    data.update(
        {
            new["code"].html_name: "tourism",
            new["name_zh"].html_name: "文旅",
            new["name_en"].html_name: "Tourism",
        }
    )
    assert admin_client.post(url, data).status_code == 302
    codes = list(draft.industries.order_by("order").values_list("code", flat=True))
    assert codes[-1] == "tourism" and "finance" not in codes
    assert draft.industries.get(code="government").name_en == "Public sector"


def test_a_new_grade_requires_the_default_level_in_every_category(admin_client, draft):
    url = reverse("competency:grade-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    new = formset.forms[-1]
    data.update(
        {
            new["code"].html_name: "G0",
            new["name_zh"].html_name: "见习客户经理",
            new["name_en"].html_name: "Trainee",
            new["order"].html_name: "0",
        }
    )
    data[row_of(formset, code="G5")["DELETE"].html_name] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert list(draft.grades.order_by("order").values_list("code", flat=True)) == [
        "G0",
        "G1",
        "G2",
        "G3",
        "G4",
    ]
    assert set(draft.grades.get(code="G0").targets.values_list("min_level", flat=True)) == {1}
    assert validate_model_data(export_version(draft)) == []


def test_the_target_grid_sets_levels_depth_breadth_and_validity(admin_client, draft):
    url = reverse("competency:target-edit", args=[draft.number])
    data = form_data(get_form(admin_client, url))
    g3, it = draft.grades.get(code="G3"), draft.categories.get(code="1.3")
    g2 = draft.grades.get(code="G2")
    data[f"t_{g3.pk}_{it.pk}"] = "4"
    data.update(
        {
            f"g_{g3.pk}_required_depth": "3",
            f"g_{g3.pk}_depth_industries": "2",
            f"g_{g2.pk}_breadth_count": "6",
            f"g_{g2.pk}_breadth_level": "3",
            f"g_{g2.pk}_validity_months": "36",
        }
    )
    assert admin_client.post(url, data).status_code == 302
    assert GradeTarget.objects.get(grade=g3, category=it).min_level == 4
    g3.refresh_from_db()
    g2.refresh_from_db()
    assert (g3.required_depth, g3.depth_industries) == (3, 2)
    assert (g2.breadth_count, g2.breadth_level, g2.validity_months) == (6, 3, 36)
    data[f"g_{g2.pk}_breadth_level"] = ""
    data[f"t_{g3.pk}_{it.pk}"] = "7"
    page = admin_client.post(url, data).content.decode()
    assert "G2：广度要求需同时填写类别数和等级，或都不填。" in page
    assert GradeTarget.objects.get(grade=g3, category=it).min_level == 4


# --- published versions never change through the editor ----------------------------------------------


def _post_everywhere(client, version, data_from):
    """POST what the editor would post to every editor URL of ``version``."""
    category = version.categories.get(code="1.1")
    urls = [reverse(name, args=[version.number]) for name in EDITOR_PAGES]
    urls.append(reverse("competency:category-edit", args=[version.number, category.pk]))
    return [(url, client.post(url, data_from)) for url in urls]


def test_editor_posts_to_a_published_version_change_nothing(admin_client, model_version, draft):
    before = export_version(model_version)
    data = {"name_zh": "改名", "code": "9", "form-TOTAL_FORMS": "0", "level_1_zh": "x"}
    for url, response in _post_everywhere(admin_client, model_version, data):
        assert response.status_code == 302, url
        assert response["Location"] == reverse("competency:version-detail", args=[1]), url
        page = admin_client.get(url, follow=True)
        assert "已发布或已停用的模型版本不可修改" in page.content.decode(), url
    assert export_version(model_version) == before
    assert (
        ModelVersion.objects.get(pk=model_version.pk).name_zh
        == before["version"]["name"]["zh-hans"]
    )


def test_a_retired_version_is_not_editable_either(admin_client, model_version, draft, admin_user):
    publish_version(version=draft, by=admin_user)
    from competency.services import retire_version

    retire_version(version=model_version, by=admin_user)
    response = admin_client.get(reverse("competency:domain-edit", args=[1]))
    assert response.status_code == 302


def test_a_draft_published_meanwhile_is_not_changed_by_a_late_save(admin_client, draft, admin_user):
    url = reverse("competency:domain-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    data[row_of(formset, code="1")["name_zh"].html_name] = "迟到的修改"
    publish_version(version=draft, by=admin_user)
    response = admin_client.post(url, data)
    assert response["Location"] == reverse("competency:version-detail", args=[draft.number])
    assert draft.domains.get(code="1").name_zh == "营销服务"


def test_a_row_of_another_version_cannot_be_smuggled_into_a_draft(
    admin_client, draft, model_version
):
    url = reverse("competency:domain-edit", args=[draft.number])
    formset = get_form(admin_client, url, "formset")
    data = form_data(formset)
    first = formset.forms[0]
    data[first["id"].html_name] = str(model_version.domains.get(code="1").pk)
    data[first["name_zh"].html_name] = "偷改"
    assert admin_client.post(url, data).status_code == 200
    assert model_version.domains.get(code="1").name_zh == "营销服务"
    category = model_version.categories.get(code="1.1")
    url = reverse("competency:category-edit", args=[draft.number, category.pk])
    assert admin_client.get(url).status_code == 404


# --- permissions -------------------------------------------------------------------------------------


def _all_editor_urls(draft, record_pk):
    category = draft.categories.get(code="1.1")
    urls = [reverse(name, args=[draft.number]) for name in EDITOR_PAGES]
    urls += [
        reverse("competency:category-edit", args=[draft.number, category.pk]),
        reverse("competency:version-publish", args=[draft.number]),
        reverse("competency:import-upload"),
        reverse("competency:import-detail", args=[record_pk]),
    ]
    return urls


@pytest.mark.parametrize("persona", ["manager", "supervisor", "hr", "outsider", "city_head"])
def test_everyone_but_admins_gets_403_on_every_editor_url(client, personas, draft, persona):
    from competency.services import upload_model_file

    record = upload_model_file(
        content=b"{}", file_name="x.json", file_format="json", by=personas["admin"]
    )
    before = export_version(draft)
    client.force_login(personas[persona])
    for url in _all_editor_urls(draft, record.pk):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name_zh": "x"}).status_code == 403, url
    assert export_version(draft) == before


def test_signed_out_visitors_are_sent_to_sign_in(client, draft):
    response = client.get(reverse("competency:target-edit", args=[draft.number]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- query counts ------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(draft, admin_user):
    """Two more grades and two more categories (with texts and targets)."""
    from competency.services import add_category, save_grades

    rows = [
        {"pk": None, "code": f"X{i}", "name_zh": f"等级{i}", "name_en": f"X{i}", "order": 9}
        for i in range(2)
    ]
    save_grades(version=draft, rows=rows)
    domain = draft.domains.get(code="1")
    texts = {
        level: {"text_zh": f"描述{level}", "text_en": f"Text {level}"} for level in range(1, 6)
    }
    for i in range(2):
        values = {
            "domain": domain,
            "code": f"1.{6 + i}",
            "name_zh": f"新类别{i}",
            "name_en": f"New {i}",
            "description_zh": "说明",
            "description_en": "About",
        }
        add_category(version=draft, values=values, levels=texts)


@pytest.mark.parametrize("name", EDITOR_PAGES + ["competency:version-publish"])
def test_editor_pages_take_a_fixed_number_of_queries(admin_client, draft, admin_user, name):
    url = reverse(name, args=[draft.number])
    admin_client.get(url)  # warm the session and caches
    small = _queries(admin_client, url)
    _grow(draft, admin_user)
    assert _queries(admin_client, url) == small
    assert small <= 30


def test_the_grid_page_query_count_does_not_grow_with_the_grid(admin_client, draft, admin_user):
    url = reverse("competency:target-edit", args=[draft.number])
    admin_client.get(url)
    small = _queries(admin_client, url)
    _grow(draft, admin_user)
    _grow_more = [draft.grades.count(), draft.categories.count()]
    assert _grow_more == [7, 14]
    assert _queries(admin_client, url) == small <= 10


def test_category_page_takes_a_fixed_number_of_queries(admin_client, draft):
    first = draft.categories.get(code="1.1")
    last = draft.categories.get(code="4.3")
    one = _queries(admin_client, reverse("competency:category-edit", args=[draft.number, first.pk]))
    two = _queries(admin_client, reverse("competency:category-edit", args=[draft.number, last.pk]))
    assert one == two <= 15


# --- an edited draft still travels exactly ----------------------------------------------------------


def test_an_edited_draft_round_trips_through_json_and_excel(admin_client, draft, admin_user):
    import io
    import json

    from competency.exchange import import_model_data
    from competency.workbook import data_from_workbook, workbook_from_data

    _grow(draft, admin_user)
    url = reverse("competency:target-edit", args=[draft.number])
    data = form_data(get_form(admin_client, url))
    g4 = draft.grades.get(code="G4")
    data.update({f"g_{g4.pk}_breadth_count": "", f"g_{g4.pk}_breadth_level": ""})
    assert admin_client.post(url, data).status_code == 302
    document = export_version(draft)
    assert validate_model_data(document) == []
    assert data_from_workbook(io.BytesIO(workbook_from_data(document))) == document
    again = import_model_data(json.loads(json.dumps(document)), by=admin_user)
    assert export_version(again) == document


def test_retiring_hides_a_version_from_new_cycles_and_names_draft_cycles(
    admin_client, model_version, draft, admin_user, draft_cycle
):
    page = admin_client.get(reverse("competency:version-detail", args=[1])).content.decode()
    assert draft_cycle.name in page and "停用后需改选其他已发布版本" in page
    publish_version(version=draft, by=admin_user)
    admin_client.post(reverse("competency:version-retire", args=[1]), {"note": "superseded"})
    assert list(ModelVersion.objects.published()) == [draft]
