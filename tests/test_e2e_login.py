"""In real Chromium: a wrong password and an unknown user read the same; after five failures the
page says the sign-in is locked, and the right password no longer gets in."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def alert_text(page) -> str:
    page.wait_for_selector("#login-form")
    return page.locator("[role=alert]").inner_text()


def test_same_message_for_unknown_user_then_the_lockout(live_server, page, manager):
    sign_in(page, live_server, "nobody", "wrong-password")
    unknown = alert_text(page)
    sign_in(page, live_server, "manager", "wrong-password")
    assert alert_text(page) == unknown == "用户名或密码不正确，请重试。"

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, live_server, "manager", "wrong-password")
    expect(page.locator("#login-locked")).to_contain_text("登录失败次数过多，已暂时锁定")
    expect(page.locator("#login-locked")).to_contain_text("15 分钟")

    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    expect(page.locator("#login-locked")).to_be_visible()
    assert page.url.endswith("/login/")
