"""In real Chromium: the manager applies, the supervisor approves, HR confirms, the manager
downloads the certificate PDF, and anyone verifies it by number."""

import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assessments.models import Certificate, CertificationApplication

from .browser import sign_in
from .factories import DEMO_PASSWORD
from .test_certification_fixtures import complete_with, mine

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def as_user(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server, username, DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    return page


def shot(page, name):
    page.screenshot(path=SHOTS / f"cert-{name}.png", full_page=True)


def test_apply_approve_confirm_download(live_server, browser, open_cycle, personas, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    manager = personas["manager"]
    manager.display_name = "周婷"
    manager.save()
    complete_with(mine(open_cycle, manager), personas["supervisor"], levels={"1.3": 2})
    url = live_server.url

    # the manager sees what they qualify for and what G3 still needs, and applies
    page = as_user(browser, live_server, "manager")
    page.goto(url + reverse("certification:my-overview"))
    expect(page.locator("#eligible-grade")).to_contain_text("G2 二级客户经理")
    expect(page.locator("#missing-lines")).to_contain_text("1.3 IT知识：需达到 3 级")
    shot(page, "01-manager-eligibility")
    page.select_option("#id_grade", "G2")
    page.fill("#id_note", "请主管审批二级认证。")
    page.click("#apply-button")
    expect(page.locator(".messages")).to_contain_text("已提交 G2")
    expect(page.locator("#open-application")).to_contain_text("待主管审批")
    shot(page, "02-manager-applied")

    # the supervisor approves from the queue
    boss = as_user(browser, live_server, "supervisor")
    boss.goto(url + reverse("certification:approval-list"))
    row = boss.locator('#approval-table tr[data-person="manager"]')
    expect(row).to_contain_text("G2")
    shot(boss, "03-supervisor-queue")
    row.locator("a.cert-action").click()
    expect(boss.locator("#requirements")).to_be_visible()
    boss.fill("#approve-note", "同意，客户关系扎实。")
    shot(boss, "04-supervisor-application")
    boss.click("#approve-button")
    expect(boss.locator(".messages")).to_contain_text("已同意")
    expect(boss.locator('#approval-table tr[data-person="manager"]')).to_have_count(0)

    # HR confirms: the certificate is issued
    hr = as_user(browser, live_server, "hr")
    hr.goto(url + reverse("certification:confirmation-list"))
    row = hr.locator('#confirmation-table tr[data-person="manager"]')
    expect(row).to_contain_text("同意")  # who approved, when and why
    shot(hr, "05-hr-queue")
    row.locator("a.cert-action").click()
    hr.click("#confirm-button")
    expect(hr.locator(".messages")).to_contain_text("证书已颁发")
    certificate = Certificate.objects.get()
    assert CertificationApplication.objects.get().status == "confirmed"
    hr.goto(url + reverse("certification:certificate-list") + "?state=valid")
    expect(
        hr.locator(f'#register-table tr[data-certificate="{certificate.number}"]')
    ).to_be_visible()
    shot(hr, "08-hr-register")

    # the manager downloads the PDF
    page.goto(url + reverse("certification:my-overview"))
    expect(page.locator("#current-certificate")).to_contain_text(certificate.number)
    expect(page.locator("#already-held")).to_contain_text("G2")
    expect(page.locator("#apply-form")).to_have_count(0)
    shot(page, "06-manager-certified")
    with page.expect_download() as download_info:
        page.click("#certificate-pdf")
    download = download_info.value
    assert download.suggested_filename == f"certificate-{certificate.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(saved), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "周婷" in text and "二级客户经理" in text

    # anyone checks the number, signed in or not
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(url + reverse("certification:certificate-lookup"))
    public.fill("#id_number", certificate.number.lower())
    public.click("#lookup-form button[type=submit]")
    public.wait_for_url(re.compile(r"/certification/verify/TS-"))
    expect(public.locator("#verify-name")).to_have_text("周婷")
    expect(public.locator("#verify-state")).to_contain_text("有效")
    shot(public, "07-public-verification")
