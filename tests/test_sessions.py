"""Signed-in sessions end after 30 minutes without a request and 12 hours after sign-in however
active; a page is sent to sign in with a message, the API answers its usual 401; logging out
deletes the session on the server, so a replayed cookie is not signed in. The stored clocks are
moved instead of waiting."""

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.middleware import SessionTimeoutMiddleware as Timeout

from .factories import DEMO_PASSWORD
from .test_api_support import error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

EXPIRED = "登录已超时，请重新登录。"


@pytest.fixture
def browser(client, manager):
    """Signed in through the login page, as a person does."""
    response = client.post(reverse("login"), {"username": "manager", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def move_clocks(client, **seconds_ago) -> None:
    session = client.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[key] = int(now - ago)
    session.save()


def test_signing_in_starts_both_clocks(browser):
    session = browser.session
    assert abs(session[Timeout.SIGNED_IN_AT] - time.time()) < 5
    assert session[Timeout.LAST_SEEN] == session[Timeout.SIGNED_IN_AT]


def test_idle_past_the_limit_sends_the_page_to_sign_in_with_a_message(browser):
    move_clocks(browser, last_seen=settings.SESSION_IDLE_TIMEOUT + 1)
    key = browser.session.session_key
    response = browser.get(reverse("accounts:people-list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + reverse("accounts:people-list")
    assert EXPIRED in browser.get(response["Location"]).content.decode()
    assert not Session.objects.filter(session_key=key).exists()
    assert browser.get(reverse("home")).status_code == 302


def test_activity_within_the_limit_keeps_the_session_and_moves_the_idle_clock(browser):
    move_clocks(browser, last_seen=settings.SESSION_IDLE_TIMEOUT - 60)
    assert browser.get(reverse("home")).status_code == 200
    assert time.time() - browser.session[Timeout.LAST_SEEN] < 5


def test_the_idle_clock_is_written_at_most_once_a_minute(browser):
    move_clocks(browser, last_seen=30)
    before = browser.session[Timeout.LAST_SEEN]
    assert browser.get(reverse("home")).status_code == 200
    assert browser.session[Timeout.LAST_SEEN] == before


def test_the_absolute_limit_ends_even_an_active_session(browser):
    move_clocks(browser, signed_in_at=settings.SESSION_ABSOLUTE_TIMEOUT + 1, last_seen=0)
    response = browser.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert EXPIRED in browser.get(response["Location"]).content.decode()


def test_just_under_the_absolute_limit_is_still_signed_in(browser):
    move_clocks(browser, signed_in_at=settings.SESSION_ABSOLUTE_TIMEOUT - 60, last_seen=0)
    assert browser.get(reverse("home")).status_code == 200


def test_signing_in_after_an_expiry_starts_new_clocks(browser):
    move_clocks(browser, signed_in_at=settings.SESSION_ABSOLUTE_TIMEOUT + 1, last_seen=0)
    assert browser.get(reverse("home")).status_code == 302
    browser.post(reverse("login"), {"username": "manager", "password": DEMO_PASSWORD})
    assert time.time() - browser.session[Timeout.SIGNED_IN_AT] < 5
    assert browser.get(reverse("home")).status_code == 200


def test_any_sign_in_starts_the_clocks_before_the_first_request(client, manager):
    client.force_login(manager)
    assert time.time() - client.session[Timeout.SIGNED_IN_AT] < 5


def test_a_session_without_clocks_gets_them_on_its_next_request(browser):
    session = browser.session  # like a session signed in before the limits existed
    del session[Timeout.SIGNED_IN_AT], session[Timeout.LAST_SEEN]
    session.save()
    assert browser.get(reverse("home")).status_code == 200
    assert time.time() - browser.session[Timeout.SIGNED_IN_AT] < 5


def test_the_api_answers_401_in_its_error_shape(browser, api_settings):
    move_clocks(browser, last_seen=settings.SESSION_IDLE_TIMEOUT + 1)
    response = browser.get(url("cycle-list"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert set(response.json()["error"]) >= {"code", "message", "fields"}
    assert browser.get(reverse("home")).status_code == 302  # the session is gone


def test_a_token_in_the_same_request_still_counts(browser, api_settings, manager):
    move_clocks(browser, last_seen=settings.SESSION_IDLE_TIMEOUT + 1)
    token, _created = Token.objects.get_or_create(user=manager)
    response = browser.get(url("person-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_logout_ends_the_session_on_the_server(browser):
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get(reverse("home")).status_code == 200
    assert browser.post(reverse("logout")).status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_cookie_lives_no_longer_than_the_absolute_limit(browser):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert browser.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 60 * 60


def test_a_token_request_gets_no_session(api_settings, manager):
    token, _created = Token.objects.get_or_create(user=manager)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(url("person-list")).status_code == 200
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not Session.objects.exists()
