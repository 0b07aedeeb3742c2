"""Uploaded files, one set of rules for every upload (evidence, the org import, the model import).

* A size cap enforced while the body streams (``UploadSizeCapHandler``): past the cap nothing more
  is kept, so a 200 MB body never lands on disk or in memory; the form gets a stand-in that carries
  the real size and refuses it with the usual message.
* The content must be what the extension says (``check_content``), by our own signature table:
  the browser's content type is never believed, and a ``.pdf`` that is really an ``.exe`` is
  refused naming the file.
* The uploaded name is only ever a display name (``safe_name``); stored names are random.
"""

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

MiB = 1024 * 1024
# Enough of a file to recognise it by its first bytes.
HEAD_BYTES = 16
# [Content_Types].xml is a few kilobytes; reading at most this much keeps a zip bomb harmless.
CONTENT_TYPES_MAX = 256 * 1024
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


# --- what each allowed type looks like ------------------------------------------------------------


def _read_all(file: BinaryIO) -> bytes:
    file.seek(0)
    return file.read()


def starts_with(*magics: bytes) -> Callable[[BinaryIO], bool]:
    """The file begins with one of these signatures."""

    def check(file: BinaryIO) -> bool:
        file.seek(0)
        head = file.read(HEAD_BYTES)
        return any(head.startswith(magic) for magic in magics)

    return check


def office_package(main_type: str) -> Callable[[BinaryIO], bool]:
    """An Office Open XML file (.docx, .xlsx, .pptx): a zip whose ``[Content_Types].xml`` names the
    main part of this kind, so a workbook renamed to .docx is refused too."""

    def check(file: BinaryIO) -> bool:
        if not starts_with(b"PK\x03\x04")(file):
            return False
        try:
            with zipfile.ZipFile(file) as package, package.open("[Content_Types].xml") as types:
                listing = types.read(CONTENT_TYPES_MAX)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
            return False
        return f"{main_type}.main+xml".encode() in listing

    return check


def ole_document(*stream_names: str) -> Callable[[BinaryIO], bool]:
    """A legacy Office file (.doc, .xls, .ppt): an OLE2 compound file holding the stream of its
    kind (directory entries store names as UTF-16)."""
    signature = starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

    def check(file: BinaryIO) -> bool:
        if not signature(file):
            return False
        content = _read_all(file)
        return any(name.encode("utf-16-le") in content for name in stream_names)

    return check


def decode_text(content: bytes) -> str | None:
    """Text in UTF-8 (with or without BOM) or GB18030 (Excel's CSV on Chinese Windows); None for
    anything else. NUL never occurs in text and always does in executables and images."""
    if b"\x00" in content:
        return None
    for encoding in TEXT_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def plain_text(file: BinaryIO) -> bool:
    return decode_text(_read_all(file)) is not None


def json_document(file: BinaryIO) -> bool:
    text = decode_text(_read_all(file))
    if text is None:
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FileKind:
    """What a file with this extension must contain, and the type it is served as."""

    suffix: str
    content_type: str
    matches: Callable[[BinaryIO], bool]


def _office(suffix: str, subtype: str) -> FileKind:
    content_type = f"application/vnd.openxmlformats-officedocument.{subtype}"
    return FileKind(suffix, content_type, office_package(content_type))


KINDS: dict[str, FileKind] = {
    kind.suffix: kind
    for kind in [
        FileKind(".pdf", "application/pdf", starts_with(b"%PDF-")),
        FileKind(".png", "image/png", starts_with(b"\x89PNG\r\n\x1a\n")),
        FileKind(".jpg", "image/jpeg", starts_with(b"\xff\xd8\xff")),
        FileKind(".jpeg", "image/jpeg", starts_with(b"\xff\xd8\xff")),
        _office(".docx", "wordprocessingml.document"),
        _office(".xlsx", "spreadsheetml.sheet"),
        _office(".pptx", "presentationml.presentation"),
        FileKind(".doc", "application/msword", ole_document("WordDocument")),
        FileKind(".xls", "application/vnd.ms-excel", ole_document("Workbook", "Book")),
        FileKind(".ppt", "application/vnd.ms-powerpoint", ole_document("PowerPoint Document")),
        FileKind(".txt", "text/plain", plain_text),
        FileKind(".csv", "text/csv", plain_text),
        FileKind(".json", "application/json", json_document),
    ]
}


def kind_for(name: str) -> FileKind | None:
    """Our entry for a (stored or uploaded) file name's extension, None when we have none."""
    return KINDS.get(PurePath(name or "").suffix.lower())


# --- the checks every upload form runs -----------------------------------------------------------


def limit_text(max_bytes: int) -> str:
    return f"{max_bytes // MiB} MB" if max_bytes % MiB == 0 else filesizeformat(max_bytes)


def check_size(upload: UploadedFile, max_bytes: int) -> None:
    """Refuses a file over ``max_bytes`` (also one the upload handler stopped at the cap)."""
    if upload.size > max_bytes or getattr(upload, "too_large", False):
        raise forms.ValidationError(
            _("“%(name)s”太大（%(size)s），文件不能超过 %(limit)s。"),
            code="too_large",
            params={
                "name": safe_name(upload.name),
                "size": filesizeformat(upload.size),
                "limit": limit_text(max_bytes),
            },
        )


def check_content(upload: UploadedFile, suffix: str) -> FileKind:
    """The entry for ``suffix`` when the content is of that kind; refused naming the file if not."""
    kind = KINDS[suffix]
    try:
        matches = kind.matches(upload)
    finally:
        upload.seek(0)
    if not matches:
        raise forms.ValidationError(
            _("“%(name)s”的内容与 %(suffix)s 文件不符：文件可能已损坏，或被改了扩展名。"),
            code="content_mismatch",
            params={"name": safe_name(upload.name), "suffix": suffix},
        )
    return kind


# Path separators of any system, and characters that change how a name reads without being seen:
# controls (Cc), format characters such as RTL overrides and zero-width joiners (Cf), line and
# paragraph separators (Zl, Zp).
_SEPARATORS = re.compile(r"[/\\]")
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


def safe_name(name: str | None, *, max_length: int = 255) -> str:
    """The uploaded name as shown to people: the last path part, without invisible or
    direction-changing characters, at most ``max_length`` characters with the extension kept."""
    name = unicodedata.normalize("NFC", _SEPARATORS.split(name or "")[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE).strip()
    if name in {"", ".", ".."}:
        name = "file"
    suffix = PurePath(name).suffix[:16]
    if len(name) > max_length:
        name = name[: max_length - len(suffix)] + suffix
    return name


# --- the size cap while the body streams ---------------------------------------------------------


class OversizedUpload(UploadedFile):
    """Stands in for a file the cap cut off: no content, the size that was sent."""

    too_large = True

    def __init__(self, name: str, content_type: str, size: int):
        super().__init__(io.BytesIO(), name, content_type, size)


class UploadSizeCapHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: passes each file on to Django's handlers until it exceeds
    ``UPLOAD_MAX_BYTES``, then discards what they kept and drops the rest of that file; the form
    receives an ``OversizedUpload`` and refuses it with the usual too-large message."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.UPLOAD_MAX_BYTES
        self.received = 0
        self.too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received, self.too_large = 0, False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received <= self.limit:
            return raw_data
        if not self.too_large:
            self.too_large = True
            self._discard_what_others_kept()
        return None  # the handlers after this one never see the rest

    def file_complete(self, file_size):
        if not self.too_large:
            return None
        return OversizedUpload(self.file_name or "", self.content_type or "", self.received)

    def _discard_what_others_kept(self) -> None:
        # A temporary file is deleted on close; an in-memory buffer is freed.
        for handler in getattr(self.request, "upload_handlers", []):
            kept = getattr(handler, "file", None)
            if handler is not self and kept is not None:
                kept.close()
