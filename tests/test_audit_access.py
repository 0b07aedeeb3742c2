"""Who may open the audit log and the personal-data pages: every URL × every persona.

The audit log is HR's and the system administrator's; personal data is HR's alone (the admin sees
people, not their data). Everyone else gets 403 — and that refusal is itself in the log; an
unknown person is 404 for HR; anonymous visitors are sent to sign in. Denied writes change
nothing. A URL added to the audit or personal-data pages without a row here fails
``test_every_audit_url_is_in_the_matrix``.
"""

import pytest
from django.urls import reverse

from accounts.audit import AuditEvent
from accounts.models import User

from .access import ROLES, only
from .factories import UserFactory

pytestmark = pytest.mark.django_db


LOG_READERS = {"hr": 200, "admin": 200}

# (url name, object, method, expected status per role); rows run in this order for each role.
MATRIX = [
    ("audit-log", None, "get", only(LOG_READERS)),
    ("audit-log", None, "post", only({"hr": 405, "admin": 405})),
    ("audit-export", "csv", "get", only(LOG_READERS)),
    ("audit-export", "xlsx", "get", only(LOG_READERS)),
    ("person-data", "active", "get", only({"hr": 200})),
    ("person-data", "missing", "get", only({"hr": 404})),
    ("person-data-export", "active", "get", only({"hr": 200})),
    ("person-data-export", "missing", "get", only({"hr": 404})),
    # refused: the person is still active
    ("person-erase", "active", "post", only({"hr": 400})),
    ("person-deactivate", "active", "post", only({"hr": 302})),
    ("person-deactivate", "active", "get", only({"hr": 405})),
    ("person-erase", "left", "post", only({"hr": 302})),
    ("person-erase", "missing", "post", only({"hr": 404})),
]
COVERED = frozenset(f"accounts:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(personas, org):
    active = UserFactory(username="colleague", org_unit=org["A"], roles=["manager"])
    left = UserFactory(username="former", org_unit=org["A"], roles=["manager"], is_active=False)
    return {"personas": personas, "active": active, "left": left}


def _target(world, name, obj) -> tuple[str, dict]:
    if name == "audit-export":
        return reverse("accounts:audit-export"), {"format": obj}
    if obj is None:
        return reverse(f"accounts:{name}"), {}
    pk = User.objects.order_by("-pk").first().pk + 100 if obj == "missing" else world[obj].pk
    return reverse(f"accounts:{name}", args=[pk]), {"confirm": "on"}


def request(client, world, role, name, obj, method):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    url, data = _target(world, name, obj)
    response = client.get(url, data) if method == "get" else client.post(url, data)
    client.logout()
    return response, url


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, expected in MATRIX:
        response, url = request(client, world, role, name, obj, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} [{obj}] as {role}: "
                f"{response.status_code} != {expected[role]}"
            )
        elif response.status_code == 302 and role == "anonymous":
            assert response.url.startswith(reverse("login")), name
        elif response.status_code == 403:
            denied = AuditEvent.objects.filter(action="access_denied", details__path=url)
            assert denied.filter(actor=world["personas"][role]).exists(), (name, role)
    assert not failures, "\n".join(failures)


def snapshot():
    return (
        sorted(User.objects.values_list("pk", "username", "is_active", "erased_at", "email")),
        AuditEvent.objects.filter(action__in=["person_erased", "person_deactivated"]).count(),
    )


@pytest.mark.parametrize("role", ["manager", "outsider", "supervisor", "city_head", "admin"])
def test_denied_requests_change_nothing(client, world, role):
    before = snapshot()
    for name, obj, method, _expected in MATRIX:
        if method == "post":
            request(client, world, role, name, obj, method)
    assert snapshot() == before


def test_the_same_posts_as_hr_do_change_things(client, world):
    """The positive control for the test above."""
    before = snapshot()
    for name, obj, method, _expected in MATRIX:
        if method == "post":
            request(client, world, "hr", name, obj, method)
    assert snapshot() != before
    assert User.objects.get(pk=world["left"].pk).erased_at is not None
