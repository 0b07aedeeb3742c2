"""The first pages: sign-in, home in both languages, the language switch, people, model, health."""

import pytest
from django.urls import reverse

from competency.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for name in ["home", "accounts:people-list", "competency:version-list"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


def test_sign_in_with_the_wrong_password_says_so(client, manager):
    response = client.post(reverse("login"), {"username": "manager", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert 'value="manager"' in response.content.decode()  # what the user typed stays


def test_home_in_chinese_by_default(client, manager, model_version):
    client.force_login(manager)
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert (
        "我的信息" in page and "甲队" in page and "supervisor" not in page.lower().split("<main")[0]
    )
    assert "v1" in page


def test_language_switch_changes_the_page_and_remembers_the_choice(client, manager, model_version):
    client.force_login(manager)
    response = client.post(reverse("accounts:set-language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in page and "Team A" in page
    manager.refresh_from_db()
    assert manager.preferred_language == "en"


def test_the_profile_language_applies_in_a_new_browser(client, manager, model_version):
    manager.preferred_language = "en"
    manager.save()
    client.force_login(manager)
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()


def test_people_list_shows_only_the_visible_people(client, personas):
    client.force_login(personas["supervisor"])
    page = client.get(reverse("accounts:people-list")).content.decode()
    assert personas["manager"].employee_no in page
    assert personas["outsider"].employee_no not in page
    assert personas["hr"].employee_no not in page


def test_people_list_filters_by_unit_only_within_scope(client, personas, org):
    client.force_login(personas["supervisor"])
    assert client.get(reverse("accounts:people-list"), {"unit": org["B"].pk}).status_code == 404
    assert client.get(reverse("accounts:people-list"), {"unit": "abc"}).status_code == 404
    client.force_login(personas["hr"])
    page = client.get(reverse("accounts:people-list"), {"unit": org["B"].pk}).content.decode()
    assert personas["outsider"].employee_no in page and personas["manager"].employee_no not in page


def test_people_list_is_for_roles_that_see_a_team(client, personas):
    client.force_login(personas["manager"])
    assert client.get(reverse("accounts:people-list")).status_code == 403


def test_people_list_page_queries_do_not_grow_with_people(
    client, personas, org, django_assert_max_num_queries
):
    from .factories import UserFactory

    client.force_login(personas["hr"])
    client.get(reverse("accounts:people-list"))
    UserFactory.create_batch(30, org_unit=org["B"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("accounts:people-list"))
    assert response.status_code == 200


def test_model_pages_for_everyone_signed_in_and_drafts_for_admins(client, personas, model_version):
    client.force_login(personas["manager"])
    page = client.get(reverse("competency:version-detail", args=[1])).content.decode()
    assert "顾问式销售" in page and "陪伴客户共同成长的通信顾问" in page
    assert client.post(reverse("competency:version-new-draft", args=[1])).status_code == 403
    client.force_login(personas["admin"])
    response = client.post(reverse("competency:version-new-draft", args=[1]))
    assert (
        response.status_code == 302
        and ModelVersion.objects.filter(number=2, status="draft").exists()
    )
    client.force_login(personas["manager"])
    assert client.get(reverse("competency:version-detail", args=[2])).status_code == 404
    client.force_login(personas["admin"])
    client.post(reverse("competency:version-publish", args=[2]), {"note": "年度更新"})
    assert ModelVersion.objects.get(number=2).events.get(action="published").note == "年度更新"


def test_model_export_downloads(client, manager, model_version):
    client.force_login(manager)
    response = client.get(reverse("competency:version-export", args=[1, "json"]))
    assert response.status_code == 200 and response.json()["domains"][0]["code"] == "1"
    response = client.get(reverse("competency:version-export", args=[1, "xlsx"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def test_admin_site_shows_published_versions_read_only(client, admin_user, model_version):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    url = reverse("admin:competency_modelversion_change", args=[model_version.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"name_zh": "改名"})
    assert response.status_code == 403
    model_version.refresh_from_db()
    assert model_version.name_zh != "改名"


def test_admin_offers_only_draft_versions_for_new_parts(client, admin_user, model_version):
    from competency.models import Category
    from competency.services import create_draft_from

    draft = create_draft_from(source=model_version, by=admin_user)
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    form = client.get(reverse("admin:competency_domain_add")).context["adminform"].form
    assert list(form.fields["version"].queryset) == [draft]
    published_category = model_version.categories.get(code="1.1")
    url = reverse("admin:competency_category_change", args=[published_category.pk])
    assert 'name="_save"' not in client.get(url).content.decode()
    draft_category = draft.categories.get(code="1.1")
    url = reverse("admin:competency_category_change", args=[draft_category.pk])
    assert 'name="_save"' in client.get(url).content.decode()
    assert Category.objects.get(pk=published_category.pk).name_zh == "信息技能"


def test_the_pager_keeps_the_filters_of_the_page(rf):
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    request = rf.get("/accounts/people/", {"unit": "7", "q": "张", "page": "2"})
    page = Paginator(range(120), 50).get_page(2)
    html = render_to_string("_pagination.html", {"page": page, "anchor": "#grid"}, request)
    assert 'href="?unit=7&amp;q=%E5%BC%A0&amp;page=1#grid"' in html
    assert 'href="?unit=7&amp;q=%E5%BC%A0&amp;page=3#grid"' in html
