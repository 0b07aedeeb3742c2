"""The versioned competency model: default content, immutability, copying, publishing."""

import pytest
from django.core.exceptions import ValidationError

from competency.exchange import ModelDataError
from competency.models import (
    Category,
    Domain,
    Grade,
    GradeTarget,
    LevelDescription,
    ModelVersion,
    ModelVersionEvent,
    ProficiencyLevel,
    PublishedVersionImmutable,
)
from competency.services import (
    VersionStateError,
    create_draft_from,
    install_default_model,
    publish_version,
    retire_version,
)

pytestmark = pytest.mark.django_db


def test_default_model_has_four_domains_twelve_categories_five_levels(model_version):
    assert model_version.number == 1
    assert model_version.status == ModelVersion.Status.PUBLISHED
    assert model_version.domains.count() == 4
    codes = list(model_version.categories_in_order().values_list("code", flat=True))
    assert codes == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "2.1",
        "2.2",
        "3.1",
        "3.2",
        "4.1",
        "4.2",
        "4.3",
    ]
    assert list(model_version.levels.values_list("value", "name_zh")) == [
        (1, "了解"),
        (2, "基础"),
        (3, "熟练"),
        (4, "精通"),
        (5, "专家"),
    ]
    assert model_version.depth_levels.count() == 5
    assert list(model_version.grades.values_list("code", flat=True)) == [
        "G1",
        "G2",
        "G3",
        "G4",
        "G5",
    ]


def test_default_model_texts_exist_in_both_languages(model_version):
    descriptions = LevelDescription.objects.filter(category__version=model_version)
    assert descriptions.count() == 12 * 5
    for d in descriptions:
        assert d.text_zh.strip() and d.text_en.strip(), d
    assert (
        len({d.text_zh for d in descriptions}) == 60
    )  # every level of every category has its own words
    for part in [
        *model_version.domains.all(),
        *model_version.categories.all(),
        *model_version.grades.all(),
    ]:
        assert part.name_zh.strip() and part.name_en.strip(), part
    for domain in model_version.domains.all():
        assert domain.motto_zh and domain.motto_en
    for category in model_version.categories.all():
        assert category.description_zh and category.description_en
    assert model_version.industries.filter(code="government", name_zh="政务").exists()


def test_default_grades_follow_the_domain_defaults(model_version):
    targets = {
        (t.grade.code, t.category.code): t.min_level
        for t in GradeTarget.objects.filter(grade__version=model_version).select_related(
            "grade", "category"
        )
    }
    assert len(targets) == 5 * 12
    assert {v for (g, _c), v in targets.items() if g == "G1"} == {1}
    assert {v for (g, _c), v in targets.items() if g == "G2"} == {2}
    assert targets[("G3", "1.3")] == 3 and targets[("G3", "3.1")] == 2
    g4 = model_version.grades.get(code="G4")
    assert (g4.required_depth, g4.breadth_count, g4.breadth_level) == (4, 10, 3)
    g5 = model_version.grades.get(code="G5")
    assert (g5.required_depth, g5.breadth_count, g5.breadth_level) == (5, 8, 4)
    assert {v for (g, _c), v in targets.items() if g == "G5"} == {3}
    assert {g.validity_months for g in model_version.grades.all()} == {24}


def test_install_default_model_is_idempotent(model_version):
    assert install_default_model() is None
    assert ModelVersion.objects.count() == 1


def test_published_version_parts_cannot_be_saved_or_deleted(model_version):
    category = model_version.categories.first()
    category.name_zh = "改名"
    with pytest.raises(PublishedVersionImmutable):
        category.save()
    with pytest.raises(PublishedVersionImmutable):
        category.delete()
    level = LevelDescription.objects.filter(category__version=model_version).first()
    level.text_en = "changed"
    with pytest.raises(PublishedVersionImmutable):
        level.save()
    assert not Category.objects.filter(name_zh="改名").exists()


def test_published_version_rejects_bulk_writes(model_version):
    with pytest.raises(PublishedVersionImmutable):
        Category.objects.filter(version=model_version).update(name_en="x")
    with pytest.raises(PublishedVersionImmutable):
        LevelDescription.objects.filter(category__version=model_version).delete()
    with pytest.raises(PublishedVersionImmutable):
        ProficiencyLevel.objects.bulk_create(
            [ProficiencyLevel(version=model_version, value=5, name_zh="x", name_en="x")]
        )
    grade = model_version.grades.first()
    grade.required_depth = 5
    with pytest.raises(PublishedVersionImmutable):
        Grade.objects.bulk_update([grade], ["required_depth"])
    with pytest.raises(PublishedVersionImmutable):
        Domain.objects.create(version=model_version, code="9", name_zh="新", name_en="New")
    assert model_version.domains.count() == 4
    assert model_version.grades.first().required_depth == 0


def test_published_version_itself_is_frozen(model_version):
    model_version.name_zh = "改名"
    with pytest.raises(PublishedVersionImmutable):
        model_version.save()
    with pytest.raises(PublishedVersionImmutable):
        ModelVersion.objects.filter(pk=model_version.pk).update(breadth_count=3)
    fresh = ModelVersion.objects.get(pk=model_version.pk)
    with pytest.raises(PublishedVersionImmutable):
        fresh.delete()
    with pytest.raises(PublishedVersionImmutable):
        ModelVersion.objects.filter(pk=model_version.pk).delete()
    fresh.status = ModelVersion.Status.DRAFT
    with pytest.raises(PublishedVersionImmutable):
        fresh.save()
    assert ModelVersion.objects.get(pk=model_version.pk).status == ModelVersion.Status.PUBLISHED


def test_new_draft_copies_everything_and_leaves_the_source_alone(model_version, admin_user):
    draft = create_draft_from(source=model_version, by=admin_user)
    assert draft.number == 2 and draft.is_draft and draft.based_on == model_version
    assert draft.categories.count() == 12
    assert LevelDescription.objects.filter(category__version=draft).count() == 60
    assert GradeTarget.objects.filter(grade__version=draft).count() == 60
    assert draft.industries.count() == model_version.industries.count()
    category = draft.categories.get(code="1.3")
    category.name_zh = "IT与数字化知识"
    category.save()
    assert model_version.categories.get(code="1.3").name_zh == "IT知识"
    assert not set(draft.categories.values_list("pk", flat=True)) & set(
        model_version.categories.values_list("pk", flat=True)
    )
    event = draft.events.get()
    assert (event.action, event.actor) == (ModelVersionEvent.Action.CREATED, admin_user)


def test_publishing_is_one_audited_action(model_version, admin_user):
    draft = create_draft_from(source=model_version, by=admin_user)
    publish_version(version=draft, by=admin_user, note="2026 年度模型")
    draft.refresh_from_db()
    assert draft.status == ModelVersion.Status.PUBLISHED and draft.published_at
    event = draft.events.get(action=ModelVersionEvent.Action.PUBLISHED)
    assert (event.actor, event.note) == (admin_user, "2026 年度模型")
    with pytest.raises(ValidationError):
        event.note = "rewritten"
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(VersionStateError):
        publish_version(version=draft, by=admin_user)


def test_incomplete_draft_cannot_be_published(model_version, admin_user):
    draft = create_draft_from(source=model_version, by=admin_user)
    GradeTarget.objects.filter(
        grade__version=draft, grade__code="G3", category__code="4.2"
    ).delete()
    LevelDescription.objects.filter(category__version=draft, category__code="1.1", level=5).update(
        text_en=""
    )
    with pytest.raises(ModelDataError) as error:
        publish_version(version=draft, by=admin_user)
    joined = "\n".join(error.value.errors)
    assert "grades[2].targets" in joined and "4.2" in joined
    assert "domains[0].categories[0].levels.5.en" in joined
    draft.refresh_from_db()
    assert draft.is_draft and not draft.events.filter(action="published").exists()


def test_retiring_keeps_the_version_but_changes_only_its_status(model_version, admin_user):
    retire_version(version=model_version, by=admin_user, note="superseded")
    model_version.refresh_from_db()
    assert model_version.status == ModelVersion.Status.RETIRED
    assert model_version.categories.count() == 12
    with pytest.raises(VersionStateError):
        retire_version(version=model_version, by=admin_user)
    assert ModelVersion.objects.latest_published() is None


def test_no_bulk_path_reopens_a_published_version_or_rewrites_its_history(model_version):
    with pytest.raises(PublishedVersionImmutable):
        ModelVersion.objects.filter(pk=model_version.pk).update(status=ModelVersion.Status.DRAFT)
    with pytest.raises(ValidationError):
        ModelVersionEvent.objects.filter(version=model_version).update(note="rewritten")
    with pytest.raises(ValidationError):
        ModelVersionEvent.objects.filter(version=model_version).delete()
    assert ModelVersion.objects.get(pk=model_version.pk).status == ModelVersion.Status.PUBLISHED
    assert model_version.events.count() == 2  # imported, published
