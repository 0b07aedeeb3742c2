"""Who may open which competency-model URL: every ``competency`` URL × every persona.

Published versions are read by everyone signed in; drafts exist only for admins (404 for
everyone else, also on exports); the editor, imports, new drafts, publishing and retiring are
the admin's (403 for everyone else, whatever the version); the editor never changes a version
that is no longer a draft — an admin is sent back to its page and nothing changes. A category of
another version under a draft's number is 404. Anonymous visitors are sent to sign in. The
model has no organisation scope: an outsider sees the same model as everyone else.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from competency.exchange import export_version
from competency.models import ModelImport, ModelVersion, ModelVersionEvent
from competency.services import create_draft_from, upload_model_file

from .access import ROLES, only
from .test_model_editor import form_data

pytestmark = pytest.mark.django_db


def admin(status: int) -> dict:
    return only({"admin": status}, 403)


EVERYONE = only({}, 200)
NOT_ALLOWED = dict.fromkeys(ROLES, 405)  # POST-only actions refuse GET before anything else
EDITOR = [
    "version-edit",
    "domain-edit",
    "category-list",
    "category-add",
    "level-edit",
    "industry-edit",
    "grade-edit",
    "target-edit",
]


def _editor_rows(name: str) -> list:
    saved = 200 if name == "category-add" else 302  # an empty new category is refused (form)
    return [
        (name, "draft", "get", admin(200)),
        (name, "published", "get", admin(302)),
        (name, "published", "post", admin(302)),
        (name, "draft", "post", admin(saved)),
    ]


# (url name, object, method, expected status per role); rows run in this order: the steps that
# change the set of versions (imports, new draft, publish, retire) come last.
MATRIX = [
    ("version-list", None, "get", EVERYONE),
    ("version-detail", "published", "get", EVERYONE),
    ("version-detail", "draft", "get", only({"admin": 200}, 404)),
    ("version-export", "published", "get", EVERYONE),
    ("version-export", "draft", "get", only({"admin": 200}, 404)),
    ("version-publish", "draft", "get", admin(200)),
    ("version-publish", "published", "get", admin(302)),
    *[row for name in EDITOR for row in _editor_rows(name)],
    ("category-edit", "draft_category", "get", admin(200)),
    ("category-edit", "foreign_category", "get", admin(404)),
    ("category-edit", "published_category", "get", admin(302)),
    ("category-edit", "published_category", "post", admin(302)),
    ("category-edit", "draft_category", "post", admin(302)),
    ("import-upload", None, "get", admin(200)),
    ("import-detail", "import", "get", admin(200)),
    ("import-detail", "missing_import", "get", admin(404)),
    ("import-upload", None, "post", admin(302)),
    ("import-detail", "import", "post", admin(302)),
    ("version-new-draft", "published", "get", NOT_ALLOWED),
    ("version-new-draft", "published", "post", admin(302)),
    ("version-retire", "published", "get", NOT_ALLOWED),
    ("version-publish", "draft", "post", admin(302)),
    ("version-retire", "published", "post", admin(302)),
]
COVERED = frozenset(f"competency:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(personas, model_version):
    draft = create_draft_from(source=model_version, by=personas["admin"])
    upload = upload_model_file(
        content=json.dumps(export_version(model_version)).encode(),
        file_name="model.json",
        file_format="json",
        by=personas["admin"],
    )
    assert upload.status == ModelImport.Status.CHECKED
    return {
        "personas": personas,
        "published": model_version,
        "draft": draft,
        "draft_category": draft.categories.get(code="1.2"),
        "published_category": model_version.categories.get(code="1.2"),
        "import": upload,
    }


def _url(world, name: str, obj) -> str:
    if obj is None:
        return reverse(f"competency:{name}")
    if obj in {"import", "missing_import"}:
        pk = world["import"].pk + (0 if obj == "import" else 1000)
        return reverse(f"competency:{name}", args=[pk])
    if obj.endswith("category"):
        version = world["published" if obj == "published_category" else "draft"]
        # foreign: a published category under the draft's number
        category = world["published_category" if obj == "foreign_category" else obj]
        return reverse(f"competency:{name}", args=[version.number, category.pk])
    args = [world[obj].number] + (["json"] if name == "version-export" else [])
    return reverse(f"competency:{name}", args=args)


def changed(data: dict) -> dict:
    """The admin's own form with every Chinese name renamed and every validity lengthened."""
    out = dict(data)
    for key, value in data.items():
        if key.endswith("name_zh") and value:
            out[key] = f"{value}（改）"
        elif key.endswith("validity_months") and value:
            out[key] = int(value) + 12
    return out


def post_data(world, name: str, obj) -> dict:
    """What a browser would post: the draft's editor form, changed (published rows included)."""
    if name == "import-upload":
        document = json.dumps(export_version(world["published"])).encode()
        return {"file": SimpleUploadedFile("model.json", document), "file_format": "json"}
    if name == "category-add" or not (name in EDITOR or name == "category-edit"):
        return {"note": "矩阵测试"}
    forms = world.setdefault("forms", {})  # each form as first shown, read once per test
    if name not in forms:
        source = Client()
        source.force_login(world["personas"]["admin"])
        draft_obj = "draft_category" if name == "category-edit" else "draft"
        context = source.get(_url(world, name, draft_obj)).context
        forms[name] = changed(form_data(context.get("formset") or context["form"]))
    return forms[name]


def request(client, world, role, name, obj, method):
    data = post_data(world, name, obj) if method == "post" else None
    sign_in(client, world, role)
    url = _url(world, name, obj)
    response = client.get(url) if method == "get" else client.post(url, data)
    return response


def sign_in(client, world, role):
    """Sign in once per test and role (no row signs the user out; each sign-in is logged)."""
    if role != "anonymous" and getattr(client, "matrix_role", None) != role:
        client.force_login(world["personas"][role])
        client.matrix_role = role


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, expected in MATRIX:
        response = request(client, world, role, name, obj, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} [{obj}] as {role}: "
                f"{response.status_code} != {expected[role]}"
            )
        elif response.status_code == 302 and role == "anonymous":
            assert response.url.startswith(reverse("login")), name
    assert not failures, "\n".join(failures)


def snapshot():
    """Every version's whole content and state, the model's audit trail and the uploads."""
    return (
        [(v.number, v.status, export_version(v)) for v in ModelVersion.objects.order_by("number")],
        ModelVersionEvent.objects.count(),
        sorted(ModelImport.objects.values_list("pk", "status", "version_id")),
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_denied_writes_change_nothing(client, world, role):
    before = snapshot()
    for name, obj, method, _expected in MATRIX:
        if method == "post":
            request(client, world, role, name, obj, method)
    assert snapshot() == before


EDITS = [(name, "draft") for name in EDITOR] + [("category-edit", "draft_category")]


def test_editor_posts_leave_a_published_version_unchanged_for_the_admin_too(client, world):
    before = snapshot()
    for name, _draft in EDITS:
        published = "published_category" if name == "category-edit" else "published"
        request(client, world, "admin", name, published, "post")
    assert snapshot() == before


def test_the_same_posts_change_the_draft_for_the_admin(client, world):
    """The positive control for the tests above: the posted forms are working edits."""
    for name, obj in EDITS:
        request(client, world, "admin", name, obj, "post")
    after = export_version(ModelVersion.objects.get(pk=world["draft"].pk))
    names = [after["version"]["name"]] + [d["name"] for d in after["domains"]]
    names += [i["name"] for i in after["industries"]] + [g["name"] for g in after["grades"]]
    names += [level["name"] for level in after["levels"]]
    assert all(n["zh-hans"].endswith("（改）") for n in names), names
    before = export_version(world["published"])
    assert [g["validity_months"] for g in after["grades"]] == [
        g["validity_months"] + 12 for g in before["grades"]
    ]


# --- the version list shows exactly the versions the user may see ----------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_version_list_shows_drafts_to_admins_only(client, world, role):
    client.force_login(world["personas"][role])
    page = client.get(reverse("competency:version-list")).content.decode()
    listed = {int(n) for n in re.findall(r'href="/model/v(\d+)/"', page)}
    visible = {world["published"].number} | ({world["draft"].number} if role == "admin" else set())
    assert listed == visible
