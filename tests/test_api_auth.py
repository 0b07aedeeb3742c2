"""API authentication: tokens obtained with a password, revoked by their owner or an admin;
browser sessions with CSRF enforced; anonymous callers refused with 401."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import DEMO_PASSWORD, UserFactory
from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


def obtain(username, password=DEMO_PASSWORD):
    return APIClient().post(
        url("auth-token"), {"username": username, "password": password}, format="json"
    )


def with_token(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_password_gives_a_token_that_authenticates(api_settings, personas):
    response = obtain("manager")
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=personas["manager"]).key == key
    assert obtain("manager").json()["token"] == key
    me = with_token(key).get(url("person-list")).json()["results"]
    assert [row["username"] for row in me] == ["manager"]


def test_unknown_user_wrong_password_and_inactive_get_the_same_answer(api_settings, personas):
    UserFactory(username="gone", is_active=False)
    answers = [obtain("manager", "wrong"), obtain("nobody"), obtain("gone")]
    assert {r.status_code for r in answers} == {400}
    assert len({r.content for r in answers}) == 1
    assert error_of(answers[0])["code"] == "invalid"
    assert not Token.objects.exists()


def test_obtaining_needs_both_fields_and_no_others(api_settings, personas):
    response = APIClient().post(url("auth-token"), {"username": "manager"}, format="json")
    assert "password" in error_of(response)["fields"]
    response = APIClient().post(
        url("auth-token"),
        {"username": "manager", "password": DEMO_PASSWORD, "user_id": 1},
        format="json",
    )
    assert "user_id" in error_of(response)["fields"]


def test_revoking_ones_own_token(api_settings, personas):
    key = obtain("manager").json()["token"]
    assert with_token(key).delete(url("auth-token")).status_code == 204
    assert not Token.objects.filter(user=personas["manager"]).exists()
    response = with_token(key).get(url("person-list"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"
    # Revoking again needs a credential: without one it is 401, not a silent success.
    assert APIClient().delete(url("auth-token")).status_code == 401


def test_admin_revokes_someone_elses_token(api_settings, personas):
    key = obtain("manager").json()["token"]
    admin = client_for(personas["admin"])
    response = admin.delete(url("user-token-detail", personas["manager"].pk))
    assert response.status_code == 204
    assert with_token(key).get(url("person-list")).status_code == 401
    assert admin.delete(url("user-token-detail", personas["manager"].pk)).status_code == 204
    assert admin.delete(url("user-token-detail", 10**9)).status_code == 404


@pytest.mark.parametrize("role", ["manager", "supervisor", "hr"])
def test_only_admins_revoke_other_peoples_tokens(api_settings, personas, role):
    key = obtain("outsider").json()["token"]
    response = client_for(personas[role]).delete(url("user-token-detail", personas["outsider"].pk))
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert with_token(key).get(url("person-list")).status_code == 200


def test_anonymous_requests_are_401_with_a_challenge(api_settings, personas):
    response = APIClient().get(url("assessment-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"


def test_a_malformed_token_header_is_401(api_settings, personas):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two words")
    response = client.get(url("assessment-list"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_deactivated_persons_token_stops_working(api_settings, personas):
    key = obtain("manager").json()["token"]
    manager = personas["manager"]
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    assert with_token(key).get(url("assessment-list")).status_code == 401


# --- browser sessions -----------------------------------------------------------------------------


@pytest.fixture
def browser(api_settings, personas):
    """A signed-in browser session whose unsafe requests must carry the CSRF token."""
    client = APIClient(enforce_csrf_checks=True)
    client.get("/login/")
    assert client.post(
        "/login/",
        {
            "username": "hr",
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    ).status_code in {200, 302}
    return client


def test_session_reads_work(browser):
    assert browser.get(url("cycle-list")).status_code == 200


def test_session_writes_without_csrf_are_refused(browser, draft_cycle):
    response = browser.post(url("cycle-open", draft_cycle.pk))
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    draft_cycle.refresh_from_db()
    assert draft_cycle.status == "draft"


def test_session_writes_with_csrf_pass(browser, draft_cycle):
    token = browser.cookies["csrftoken"].value
    response = browser.post(url("cycle-open", draft_cycle.pk), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json()["cycle"]["status"] == "open"
