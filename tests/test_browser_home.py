"""In real Chromium: sign in, the home page in Chinese, switch to English and back."""

import pytest

from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_switch_language(live_server, page, manager, model_version):
    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("text=甲队").count() >= 1

    page.select_option("#language-select", "en")
    page.click(".language-switch button")
    page.wait_for_selector("text=My information")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("text=Team A").count() >= 1

    page.select_option("#language-select", "zh-hans")
    page.click(".language-switch button")
    page.wait_for_selector("text=我的信息")


def test_wrong_password_keeps_the_username(live_server, page, manager):
    sign_in(page, live_server, "manager", "wrong-password")
    page.wait_for_selector("text=用户名或密码不正确")
    assert page.input_value("#id_username") == "manager"
