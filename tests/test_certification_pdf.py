"""The certificate PDF: Chinese and English on one page, the CJK font embedded, the text readable
(``pdftotext``), downloaded only by who may see the certificate."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from assessments.certification import services
from assessments.certification.pdf import certificate_pdf

from .test_certification_fixtures import certified, completed_fixture  # noqa: F401 - the "completed" fixture

pytestmark = pytest.mark.django_db

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: it comes with Debian's poppler-utils package.")
    return path


def pdf_text(data: bytes, tmp_path) -> str:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(data)
    result = subprocess.run(
        [tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True
    )
    return result.stdout.decode()


@pytest.fixture
def certificate(open_cycle, personas, completed):
    personas["manager"].display_name = "周婷"
    personas["manager"].save()
    return certified(open_cycle, personas["manager"], personas["supervisor"], personas["hr"])


def test_the_pdf_carries_the_chinese_name_grade_number_and_dates(certificate, tmp_path):
    data = certificate_pdf(certificate)
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "周婷" in text
    assert "四级客户经理" in text and "Grade 4 account manager" in text
    assert certificate.number in text
    assert f"{certificate.valid_until:%Y年%-m月%-d日}" in text
    assert certificate.valid_until.strftime("%B") in text  # the English date
    assert f"/certification/verify/{certificate.number}/" in text


def test_the_cjk_font_is_embedded(certificate, tmp_path):
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(certificate_pdf(certificate))
    fonts = subprocess.run(
        [tool("pdffonts"), str(pdf)], capture_output=True, check=True
    ).stdout.decode()
    assert "WenQuanYi" in fonts
    # one page, rendered for a person to look at (test-results/screenshots/cert-certificate.png)
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            tool("pdftoppm"),
            "-png",
            "-r",
            "60",
            "-singlefile",
            str(pdf),
            str(SHOTS / "cert-certificate"),
        ],
        check=True,
    )
    assert (SHOTS / "cert-certificate.png").stat().st_size > 10_000


def test_a_revoked_certificate_says_so_across_the_page(certificate, personas, tmp_path):
    services.revoke_certificate(certificate=certificate, by=personas["hr"], reason="材料不实")
    certificate.refresh_from_db()
    assert "本证书已被撤销" in pdf_text(certificate_pdf(certificate), tmp_path)


@pytest.mark.parametrize("who", ["manager", "supervisor", "city_head", "hr"])
def test_who_sees_the_certificate_downloads_it(client, certificate, personas, who):
    client.force_login(personas[who])
    response = client.get(reverse("certification:certificate-pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert certificate.number in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["outsider", "outsider_supervisor", "admin"])
def test_nobody_else_downloads_it(client, certificate, personas, who):
    client.force_login(personas[who])
    response = client.get(reverse("certification:certificate-pdf", args=[certificate.pk]))
    assert response.status_code == 404
