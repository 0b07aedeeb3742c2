"""Sign-in hardening: one answer for an unknown user and a wrong password; five failures for one
username from one address lock that pair for 15 minutes on the login page and the API token
endpoint alike (even the right password is refused); an unknown username locks the same way;
unlocked by the command or by time. A lockout leaves existing API tokens alone."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from .factories import DEMO_PASSWORD, UserFactory
from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
WRONG = "not-the-password"
GENERIC = "用户名或密码不正确，请重试。"
LOCKED = "登录失败次数过多，已暂时锁定"


def sign_in(client, username, password=WRONG, address="10.1.1.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def obtain(username, password=WRONG, address="10.1.1.1"):
    return APIClient().post(
        url("auth-token"),
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def page_text(response, username: str) -> str:
    """The page with what legitimately differs between two answers taken out: the per-response
    CSRF token and the username the person typed."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(f'value="{username}"', 'value=""')


def signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def fail(client, username, times, address="10.1.1.1"):
    return [sign_in(client, username, address=address) for _ in range(times)]


# --- one answer ---------------------------------------------------------------------------------


def test_unknown_user_wrong_password_and_inactive_get_the_same_page(client, manager):
    UserFactory(username="gone", is_active=False)
    answers = {
        "manager": sign_in(client, "manager"),
        "nobody": sign_in(client, "nobody"),
        "gone": sign_in(client, "gone", DEMO_PASSWORD),
    }
    assert {r.status_code for r in answers.values()} == {200}
    pages = {page_text(response, name) for name, response in answers.items()}
    assert len(pages) == 1
    assert GENERIC in pages.pop()


def test_the_lockout_page_is_the_same_for_an_unknown_user(client, manager):
    fail(client, "manager", LIMIT - 1)
    fail(client, "nobody", LIMIT - 1)
    known, unknown = sign_in(client, "manager"), sign_in(client, "nobody")
    assert known.status_code == unknown.status_code == 429
    assert page_text(known, "manager") == page_text(unknown, "nobody")
    assert LOCKED in known.content.decode() and GENERIC not in known.content.decode()


# --- lockout on the login page ------------------------------------------------------------------


def test_five_failures_lock_and_then_the_right_password_is_refused(client, manager):
    for response in fail(client, "manager", LIMIT - 1):
        assert response.status_code == 200 and GENERIC in response.content.decode()
    locked = sign_in(client, "manager")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode() and "15 分钟" in locked.content.decode()
    right = sign_in(client, "manager", DEMO_PASSWORD)
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert not signed_in(client)


def test_the_lockout_is_per_username_and_address(client, manager, supervisor):
    fail(client, "manager", LIMIT)
    assert sign_in(client, "supervisor", DEMO_PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, "manager", DEMO_PASSWORD, address="10.2.2.2").status_code == 302
    assert signed_in(client)


def test_a_success_before_the_limit_starts_the_count_again(client, manager):
    fail(client, "manager", LIMIT - 1)
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 302
    client.logout()
    assert [r.status_code for r in fail(client, "manager", LIMIT - 1)] == [200] * (LIMIT - 1)
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 302


def test_the_command_unlocks(client, manager):
    fail(client, "manager", LIMIT)
    call_command("axes_reset_username", "manager")
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_lockout_ends_after_its_period(client, manager):
    fail(client, "manager", LIMIT)
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 302


def test_tries_during_the_lockout_do_not_extend_it(client, manager):
    fail(client, "manager", LIMIT)
    locked_at = AccessAttempt.objects.get().attempt_time
    fail(client, "manager", 3)
    attempt = AccessAttempt.objects.get()
    assert (attempt.attempt_time, attempt.failures_since_start) == (locked_at, LIMIT)


# --- lockout on the API token endpoint -----------------------------------------------------------


def test_the_token_endpoint_locks_after_five_failures(api_settings, manager):
    answers = [obtain("manager") for _ in range(LIMIT)]
    assert [r.status_code for r in answers] == [400] * (LIMIT - 1) + [429]
    right = obtain("manager", DEMO_PASSWORD)
    assert right.status_code == 429 and "token" not in right.json()
    error = error_of(right)
    assert error["code"] == "throttled" and LOCKED in error["message"]
    assert error["fields"] == {}
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    assert obtain("nobody").status_code == 400  # another username is not locked
    call_command("axes_reset_username", "manager")
    assert obtain("manager", DEMO_PASSWORD).status_code == 200


def test_the_api_answers_an_unknown_user_like_a_known_one_when_locked(api_settings, manager):
    for name in ("manager", "nobody"):
        for _ in range(LIMIT):
            obtain(name)
    known, unknown = obtain("manager", DEMO_PASSWORD), obtain("nobody")
    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content


def test_page_and_api_failures_count_together(client, api_settings, manager):
    fail(client, "manager", 3)
    assert obtain("manager").status_code == 400
    assert obtain("manager").status_code == 429
    assert sign_in(client, "manager", DEMO_PASSWORD).status_code == 429


def test_a_lockout_leaves_existing_tokens_working(api_settings, manager):
    """Anyone can lock a username by guessing; that must not cut off the person's integration."""
    token_client = client_for(manager)
    for _ in range(LIMIT):
        obtain("manager")
    assert obtain("manager", DEMO_PASSWORD).status_code == 429
    assert token_client.get(url("person-list")).status_code == 200


# --- the address behind a proxy -------------------------------------------------------------------


def through_proxy(client, forwarded_for, password=WRONG):
    return client.post(
        reverse("login"),
        {"username": "manager", "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_count(client, manager, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(LIMIT):
        through_proxy(client, "203.0.113.7")
    assert through_proxy(client, "203.0.113.7", DEMO_PASSWORD).status_code == 429
    # What the client wrote before the proxy's own entry changes nothing.
    assert through_proxy(client, "198.51.100.1, 203.0.113.7", DEMO_PASSWORD).status_code == 429
    assert through_proxy(client, "203.0.113.8", DEMO_PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_without_trusted_proxies_the_header_is_ignored(client, manager, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for index in range(LIMIT):
        through_proxy(client, f"203.0.113.{index}")
    assert through_proxy(client, "203.0.113.99", DEMO_PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
