"""Evidence files: upload with type and size limits, stored under a random name, downloaded only
by who may see the assessment, deleted only by its person while the self-assessment is open."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import Assessment, Evidence

from .assessment_helpers import submit
from .test_uploads import SAMPLES

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a customer SWOT\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def mine(open_cycle, personas) -> Assessment:
    return Assessment.objects.get(cycle=open_cycle, person=personas["manager"])


def upload(
    client, assessment, name="客户SWOT.pdf", content=PDF, browser_type="text/html", **subject
):
    subject = subject or {"category": "1.2"}
    file = SimpleUploadedFile(name, content, content_type=browser_type)
    url = reverse("assessments:evidence-upload", args=[assessment.pk])
    return client.post(url, {"file": file, **subject})


@pytest.fixture
def evidence(client, mine, personas) -> Evidence:
    client.force_login(personas["manager"])
    upload(client, mine)
    client.logout()
    return Evidence.objects.get()


def messages_after(client, response) -> str:
    return client.get(response["Location"].split("#")[0], follow=True).content.decode()


def test_upload_stores_the_file_under_a_random_name(client, mine, personas, media):
    client.force_login(personas["manager"])

    response = upload(client, mine)

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:self", args=[mine.pk]) + "#cat-1-2"
    evidence = Evidence.objects.get()
    assert evidence.original_name == "客户SWOT.pdf" and evidence.size == len(PDF)
    assert evidence.content_type == "application/pdf"  # from our table, not the browser's text/html
    assert evidence.category.code == "1.2" and evidence.industry is None
    assert evidence.uploaded_by == personas["manager"]
    stored = Path(evidence.file.path)
    assert stored.is_file() and stored.read_bytes() == PDF
    assert stored.is_relative_to(media)
    assert "SWOT" not in stored.name and stored.suffix == ".pdf"
    page = client.get(reverse("assessments:self", args=[mine.pk])).content.decode()
    assert "已上传“客户SWOT.pdf”" in page
    assert reverse("assessments:evidence-download", args=[evidence.pk]) in page


def test_upload_for_an_industry(client, mine, personas):
    client.force_login(personas["manager"])
    docx = SAMPLES[".docx"]  # the content must be a Word document now, not the PDF
    response = upload(client, mine, name="swot.docx", content=docx, industry="finance")
    assert response["Location"].endswith("#ind-finance")
    evidence = Evidence.objects.get()
    assert evidence.industry.code == "finance" and evidence.category is None
    assert evidence.content_type.endswith("wordprocessingml.document")


def test_a_file_over_the_limit_is_refused_naming_the_limit(client, mine, personas, media):
    client.force_login(personas["manager"])
    response = upload(client, mine, name="big.pdf", content=b"0" * (Evidence.MAX_BYTES + 1))
    assert response.status_code == 302
    assert not Evidence.objects.exists()
    assert "10 MB" in messages_after(client, response)
    assert not list(media.rglob("*.pdf"))


def test_a_wrong_type_is_refused_naming_the_allowed_types(client, mine, personas, media):
    client.force_login(personas["manager"])
    response = upload(client, mine, name="setup.exe", browser_type="application/pdf")
    assert not Evidence.objects.exists()
    page = messages_after(client, response)
    assert "不支持这种文件类型。允许的类型：.doc、.docx、.jpeg、.jpg、.pdf" in page
    assert not list(media.rglob("*"))


def test_an_upload_must_name_a_category_or_industry_of_the_model(client, mine, personas):
    client.force_login(personas["manager"])
    upload(client, mine, category="9.9")
    upload(client, mine, industry="nope")
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "hr", "outsider", "outsider_supervisor"])
def test_only_the_person_uploads(client, mine, personas, who):
    client.force_login(personas[who])
    assert upload(client, mine).status_code == 404
    assert not Evidence.objects.exists()


def test_no_upload_after_submit(client, mine, personas):
    submit(mine)
    client.force_login(personas["manager"])
    response = upload(client, mine)
    assert response["Location"] == reverse("assessments:detail", args=[mine.pk])
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("who", ["manager", "supervisor", "city_head", "hr"])
def test_who_may_see_the_assessment_downloads(client, evidence, personas, who):
    client.force_login(personas[who])

    response = client.get(reverse("assessments:evidence-download", args=[evidence.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''%E5%AE%A2%E6%88%B7SWOT.pdf" in disposition


@pytest.mark.parametrize("who", ["outsider", "outsider_supervisor", "admin"])
def test_nobody_else_downloads(client, evidence, personas, who):
    client.force_login(personas[who])
    url = reverse("assessments:evidence-download", args=[evidence.pk])
    assert client.get(url).status_code == 404


def test_anonymous_download_goes_to_sign_in(client, evidence):
    response = client.get(reverse("assessments:evidence-download", args=[evidence.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_detail_page_links_the_evidence(client, evidence, personas, mine):
    client.force_login(personas["supervisor"])
    html = client.get(reverse("assessments:detail", args=[mine.pk])).content.decode()
    assert reverse("assessments:evidence-download", args=[evidence.pk]) in html
    assert "客户SWOT.pdf" in html
    assert reverse("assessments:evidence-delete", args=[evidence.pk]) not in html


@pytest.mark.parametrize("who", ["supervisor", "hr", "outsider"])
def test_only_the_person_deletes(client, evidence, personas, who):
    client.force_login(personas[who])
    url = reverse("assessments:evidence-delete", args=[evidence.pk])
    assert client.post(url).status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert Path(evidence.file.path).exists()


def test_the_person_deletes_and_the_file_goes(
    client, evidence, personas, django_capture_on_commit_callbacks
):
    client.force_login(personas["manager"])
    path = Path(evidence.file.path)
    url = reverse("assessments:evidence-delete", args=[evidence.pk])
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("#cat-1-2")
    assert not Evidence.objects.exists()
    assert not path.exists()


def test_no_delete_after_submit(client, evidence, personas, mine):
    submit(mine)
    client.force_login(personas["manager"])
    client.post(reverse("assessments:evidence-delete", args=[evidence.pk]))
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_a_missing_stored_file_is_a_404(client, evidence, personas):
    Path(evidence.file.path).unlink()
    client.force_login(personas["manager"])
    url = reverse("assessments:evidence-download", args=[evidence.pk])
    assert client.get(url).status_code == 404
