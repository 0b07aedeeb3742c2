"""The competency model over the API: admins edit drafts only (through the services and the
editor's rules), publish and retire; a published version never changes by any endpoint."""

import pytest
from django.forms.models import model_to_dict

from competency.models import (
    Category,
    Grade,
    GradeTarget,
    LevelDescription,
    ModelVersion,
    ModelVersionEvent,
)
from competency.services import create_draft_from

from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api_settings, personas):
    return client_for(personas["admin"])


@pytest.fixture
def draft(model_version, personas):
    return create_draft_from(source=model_version, by=personas["admin"])


def frozen(version):
    """Everything a published version owns, to compare before and after a refused write."""
    return (
        model_to_dict(ModelVersion.objects.get(pk=version.pk)),
        sorted(Category.objects.filter(version=version).values_list("code", "name_en")),
        sorted(
            LevelDescription.objects.filter(version=version).values_list(
                "category__code", "level", "text_en"
            )
        ),
        sorted(Grade.objects.filter(version=version).values_list("code", "validity_months")),
        sorted(
            GradeTarget.objects.filter(version=version).values_list(
                "grade__code", "category__code", "min_level"
            )
        ),
    )


@pytest.mark.parametrize(
    ("name", "args", "body"),
    [
        ("model-version-detail", [], {"name_en": "Changed"}),
        (
            "model-version-category",
            ["1.1"],
            {"name_en": "Changed", "levels": {"1": {"text_en": "x"}}},
        ),
        ("model-version-grade", ["G2"], {"validity_months": 12, "targets": {"1.1": 5}}),
    ],
)
def test_writes_to_a_published_version_are_409_and_change_nothing(
    admin, model_version, name, args, body
):
    before = frozen(model_version)
    response = admin.patch(url(name, model_version.number, *args), body, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "published_version_immutable"
    assert "草稿" in error["message"]
    assert frozen(model_version) == before


def test_admin_renames_a_draft_and_sets_thresholds(admin, draft):
    body = {"name_en": "Draft 2027", "breadth_count": 9, "pi_industries": 3}
    response = admin.patch(url("model-version-detail", draft.number), body, format="json")
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert (draft.name_en, draft.breadth_count, draft.pi_industries) == ("Draft 2027", 9, 3)
    assert response.json()["content"]["domains"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"breadth_floor": 5, "breadth_level": 3}, "breadth_floor"),
        ({"breadth_count": 13}, "breadth_count"),
        ({"name_zh": ""}, "name_zh"),
        ({"pi_industries": 1}, "pi_industries"),
        ({"status": "published"}, "status"),
        ({"number": 99}, "number"),
    ],
)
def test_invalid_draft_settings_are_400_and_change_nothing(admin, draft, body, field):
    before = model_to_dict(ModelVersion.objects.get(pk=draft.pk))
    response = admin.patch(url("model-version-detail", draft.number), body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert model_to_dict(ModelVersion.objects.get(pk=draft.pk)) == before


def test_admin_edits_a_draft_category(admin, draft):
    body = {"name_en": "Information skills", "levels": {"3": {"text_en": "Level three"}}}
    response = admin.patch(url("model-version-category", draft.number, "1.1"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name_en"] == "Information skills"
    texts = dict(
        LevelDescription.objects.filter(version=draft, category__code="1.1").values_list(
            "level", "text_en"
        )
    )
    assert texts[3] == "Level three"
    assert texts[2] != "Level three"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"levels": {"7": {"text_en": "x"}}}, "levels"),
        ({"levels": {"1": {"text_en": ""}}}, "levels"),
        ({"name_zh": ""}, "name_zh"),
        ({"code": "9.9"}, "code"),
    ],
)
def test_invalid_category_edits_are_400(admin, draft, body, field):
    response = admin.patch(url("model-version-category", draft.number, "1.1"), body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_unknown_category_or_grade_is_404(admin, draft):
    assert admin.patch(url("model-version-category", draft.number, "9.9"), {}).status_code == 404
    assert admin.patch(url("model-version-grade", draft.number, "G9"), {}).status_code == 404


def test_admin_edits_a_draft_grade(admin, draft):
    body = {"validity_months": 36, "breadth_count": 8, "breadth_level": 4, "targets": {"1.1": 4}}
    response = admin.patch(url("model-version-grade", draft.number, "G2"), body, format="json")
    assert response.status_code == 200, response.content
    grade = Grade.objects.get(version=draft, code="G2")
    assert (grade.validity_months, grade.breadth_count, grade.breadth_level) == (36, 8, 4)
    assert GradeTarget.objects.get(grade=grade, category__code="1.1").min_level == 4
    assert response.json()["targets"]["1.1"] == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"breadth_count": 8}, "breadth_count"),
        ({"breadth_count": 40, "breadth_level": 3}, "breadth_count"),
        ({"targets": {"9.9": 3}}, "targets"),
        ({"targets": {"1.1": 6}}, "targets"),
        ({"required_depth": 6}, "required_depth"),
    ],
)
def test_invalid_grade_edits_are_400(admin, draft, body, field):
    response = admin.patch(url("model-version-grade", draft.number, "G2"), body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_publish_then_retire(admin, draft, model_version):
    response = admin.post(
        url("model-version-publish", draft.number), {"note": "年度更新"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    event = ModelVersionEvent.objects.get(version=draft, action="published")
    assert event.note == "年度更新"
    again = admin.post(url("model-version-publish", draft.number), {}, format="json")
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    retired = admin.post(url("model-version-retire", model_version.number), {}, format="json")
    assert retired.json()["status"] == "retired"


def test_an_incomplete_draft_is_not_published(admin, draft):
    LevelDescription.objects.filter(version=draft, category__code="1.1", level=5).delete()
    response = admin.post(url("model-version-publish", draft.number), {}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid" and error["fields"]["model"]
    assert ModelVersion.objects.get(pk=draft.pk).status == "draft"


def test_retiring_a_draft_is_409(admin, draft):
    response = admin.post(url("model-version-retire", draft.number), {}, format="json")
    assert response.status_code == 409


def test_new_draft_copies_a_version(admin, model_version):
    response = admin.post(url("model-version-new-draft", model_version.number))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["based_on"]) == ("draft", model_version.number)
    assert ModelVersion.objects.filter(number=body["number"], status="draft").exists()


def test_drafts_are_invisible_to_non_admins(api_settings, personas, draft):
    client = client_for(personas["hr"])
    assert client.get(url("model-version-detail", draft.number)).status_code == 404
    response = client.patch(url("model-version-detail", draft.number), {"name_en": "x"})
    assert response.status_code == 403
