"""Uploads (config/uploads.py): every allowed type is recognised by its content, an extension
the content does not bear out is refused naming the file, nothing past the size cap is kept while
the body streams, names are display names only, and evidence is served only through the checked
view with our type, as an attachment that is never sniffed. The org and model imports run the
same checks."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image

from accounts.models import OrgImport
from assessments.models import Assessment, Evidence
from competency.models import ModelImport
from config import uploads

from .test_production import ROOT, clean_env, example_env

pytestmark = pytest.mark.django_db

OOXML = "application/vnd.openxmlformats-officedocument"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run"


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "teal").save(out, fmt)
    return out.getvalue()


def ooxml(subtype: str) -> bytes:
    """A minimal Office Open XML package whose [Content_Types].xml names its main part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types><Override PartName="/main.xml" '
            f'ContentType="{OOXML}.{subtype}.main+xml"/></Types>',
        )
        package.writestr("main.xml", "<doc/>")
    return out.getvalue()


def workbook() -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def ole(stream: str) -> bytes:
    """An OLE2 compound file header with a directory entry naming ``stream``."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return header + stream.encode("utf-16-le") + b"\x00" * 64


SAMPLES = {
    ".pdf": b"%PDF-1.4\n% a customer SWOT\n%%EOF\n",
    ".png": image("PNG"),
    ".jpg": image("JPEG"),
    ".jpeg": image("JPEG"),
    ".docx": ooxml("wordprocessingml.document"),
    ".xlsx": workbook(),
    ".pptx": ooxml("presentationml.presentation"),
    ".doc": ole("WordDocument"),
    ".xls": ole("Workbook"),
    ".ppt": ole("PowerPoint Document"),
    ".txt": "客户分析：政务行业 SWOT\n".encode(),
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def mine(open_cycle, personas, client) -> Assessment:
    client.force_login(personas["manager"])
    return Assessment.objects.get(cycle=open_cycle, person=personas["manager"])


def upload(client, assessment, name, content, browser_type="application/octet-stream"):
    file = SimpleUploadedFile(name, content, content_type=browser_type)
    url = reverse("assessments:evidence-upload", args=[assessment.pk])
    response = client.post(url, {"file": file, "category": "1.2"})
    assert response.status_code == 302
    return client.get(response["Location"].split("#")[0]).content.decode()


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- evidence: content decides ------------------------------------------------------------------


def test_every_type_evidence_allows_has_a_signature():
    assert set(Evidence.ALLOWED_SUFFIXES) <= set(uploads.KINDS) and set(SAMPLES) == set(
        Evidence.ALLOWED_SUFFIXES
    )


@pytest.mark.parametrize("suffix", sorted(SAMPLES))
def test_each_allowed_type_is_accepted_by_its_content(client, mine, suffix):
    upload(client, mine, f"材料{suffix}", SAMPLES[suffix], browser_type="text/html")
    evidence = Evidence.objects.get()
    assert evidence.content_type == uploads.KINDS[suffix].content_type
    assert Path(evidence.file.path).read_bytes() == SAMPLES[suffix]
    download = client.get(reverse("assessments:evidence-download", args=[evidence.pk]))
    assert download["Content-Type"] == uploads.KINDS[suffix].content_type


def test_gbk_text_is_text_too(client, mine):
    upload(client, mine, "笔记.txt", "政务行业客户分析".encode("gbk"))
    assert Evidence.objects.get().content_type == "text/plain"


@pytest.mark.parametrize(
    "name, content",
    [
        ("报告.pdf", EXE),
        ("照片.png", SAMPLES[".jpg"]),
        ("扫描.jpg", SAMPLES[".pdf"]),
        ("方案.docx", SAMPLES[".xlsx"]),
        ("演示.pptx", SAMPLES[".docx"]),
        ("表格.xlsx", b"PK\x03\x04 not really a zip"),
        ("旧文档.doc", SAMPLES[".xls"]),
        ("旧表格.xls", SAMPLES[".pdf"]),
        ("笔记.txt", b"plain until \x00 a NUL"),
        ("笔记.txt", b"\xff\xfe\xfa binary"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(client, mine, media, name, content):
    page = upload(client, mine, name, content, browser_type="application/pdf")
    suffix = Path(name).suffix
    assert f"“{name}”的内容与 {suffix} 文件不符：文件可能已损坏，或被改了扩展名。" in page
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_an_oversized_file_is_refused_naming_it_and_nothing_is_stored(client, mine, media):
    content = SAMPLES[".pdf"] + b"0" * Evidence.MAX_BYTES
    page = upload(client, mine, "扫描件.pdf", content)
    assert "“扫描件.pdf”太大" in page and "文件不能超过 10 MB" in page
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_the_cap_holds_while_the_body_streams(settings, tmp_path):
    """Past the cap nothing more reaches Django's handlers and what they kept is deleted; the
    fields after the file still arrive, so the form can answer with its message."""
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django would spool this one to a temp file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024))
    small = SimpleUploadedFile("small.txt", b"fits")
    request = RequestFactory().post("/", {"file": big, "small": small, "after": "yes"})

    files = request.FILES

    assert isinstance(files["file"], uploads.OversizedUpload)
    assert files["file"].size == 3 * 1024 * 1024 + 5 and files["file"].read() == b""
    assert files["small"].read() == b"fits" and request.POST["after"] == "yes"
    # The big file's temporary file is gone; only the small one's is left.
    assert list(tmp_path.iterdir()) == [Path(files["small"].temporary_file_path())]


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, shown",
    [
        ("客户SWOT.pdf", "客户SWOT.pdf"),
        ("..\\..\\windows\\system32\\a.pdf", "a.pdf"),
        ("../../etc/passwd", "passwd"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("zero\u200bwidth\x07bell\n.pdf", "zerowidthbell.pdf"),
        ("..", "file"),
        ("\u202e", "file"),
        ("长" * 300 + ".docx", "长" * 250 + ".docx"),
    ],
)
def test_names_are_made_safe_for_display(name, shown):
    assert uploads.safe_name(name) == shown


def test_the_stored_name_is_random_and_the_shown_name_clean(client, mine):
    upload(client, mine, "客户\u202eSWOT\x07.pdf", SAMPLES[".pdf"])
    evidence = Evidence.objects.get()
    assert evidence.original_name == "客户SWOT.pdf"
    assert "SWOT" not in Path(evidence.file.name).name
    assert Path(evidence.file.name).suffix == ".pdf"


# --- serving ------------------------------------------------------------------------------------


@pytest.fixture
def evidence(client, mine) -> Evidence:
    upload(client, mine, "客户SWOT.pdf", SAMPLES[".pdf"])
    return Evidence.objects.get()


def test_downloads_carry_our_type_and_are_never_rendered(client, evidence):
    Evidence.objects.update(content_type="text/html", original_name="a\u202eb.pdf")
    response = client.get(reverse("assessments:evidence-download", args=[evidence.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="ab.pdf"'
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_the_media_url_does_not_serve_the_file(client, evidence, settings):
    settings.DEBUG = False
    assert Path(evidence.file.path).is_file()
    assert client.get(settings.MEDIA_URL + evidence.file.name).status_code == 404


def test_production_serves_nothing_from_media(tmp_path):
    stored = tmp_path / "evidence" / "1" / "secret.pdf"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(SAMPLES[".pdf"])
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/media/evidence/1/secret.pdf', secure=True, "
        "HTTP_HOST='tshape.example.com'); print(r.status_code, b'%PDF' in r.content)"
    )
    env = clean_env(
        **{**example_env(), "MEDIA_ROOT": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["404", "False"]


# --- the imports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [("org.csv", EXE), ("org.xlsx", "employee_no,name\n1,张三\n".encode()), ("org.csv", b"\x00")],
)
def test_the_org_import_checks_content(client, hr, name, content):
    client.force_login(hr)
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    response = client.post(reverse("accounts:org-import"), {"file": file})
    assert response.status_code == 200
    assert f"“{name}”的内容与" in response.content.decode()
    assert not OrgImport.objects.exists()


def test_the_org_import_takes_gbk_csv_and_cleans_the_name(client, hr):
    client.force_login(hr)
    content = "unit_code,单位\nP,省公司\n".encode("gbk")
    file = SimpleUploadedFile("组织\u202e.csv", content)
    assert client.post(reverse("accounts:org-import"), {"file": file}).status_code == 302
    assert OrgImport.objects.get().file_name == "组织.csv"


@pytest.mark.parametrize(
    "name, content, file_format",
    [
        ("model.json", b"{ nope", ""),
        ("model.xlsx", b"not a workbook", ""),
        ("model.xlsx", ooxml("wordprocessingml.document"), ""),
        ("framework.csv", EXE, ""),
        ("export.bin", EXE, "moodle-csv"),
        ("export.bin", b"[1, 2", "json"),
    ],
)
def test_the_model_import_checks_content_of_its_format(
    client, admin_user, model_version, name, content, file_format
):
    client.force_login(admin_user)
    file = SimpleUploadedFile(name, content)
    response = client.post(
        reverse("competency:import-upload"), {"file": file, "file_format": file_format}
    )
    assert response.status_code == 200
    assert f"“{name}”的内容与" in response.content.decode()
    assert not ModelImport.objects.exists()


def test_the_model_import_size_cap_names_the_file(client, admin_user, model_version):
    client.force_login(admin_user)
    content = json.dumps({"pad": "x" * (5 * 1024 * 1024)}).encode()
    file = SimpleUploadedFile("big.json", content)
    response = client.post(reverse("competency:import-upload"), {"file": file})
    assert "“big.json”太大" in response.content.decode()
    assert not ModelImport.objects.exists()
