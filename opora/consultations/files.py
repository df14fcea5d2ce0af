"""What may be sent as a file in the room's chat: the type is judged by the extension AND the
content (magic bytes, the parts inside an Office/OpenDocument archive), never by what the browser
claims, so a renamed program or script is refused."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from opora.core.errors import DomainError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "jpg": "image/jpeg",
    "png": "image/png",
    "txt": "text/plain; charset=utf-8",
}
ALIASES = {"jpeg": "jpg"}
ALLOWED = tuple(CONTENT_TYPES)

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def max_bytes() -> int:
    return int(getattr(settings, "OPORA_CHAT_FILE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _zip_names(data: bytes) -> tuple[set[str], bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            mimetype = z.read("mimetype") if "mimetype" in names else b""
            return names, mimetype
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return set(), b""


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Control characters other than tabs and line breaks mean a binary file.
        return not any(unicodedata.category(c) == "Cc" and c not in "\t\r\n\f" for c in text)
    return False


def _content_matches(ext: str, data: bytes) -> bool:
    if ext == "pdf":
        return data.startswith(b"%PDF-")
    if ext == "doc":
        return data.startswith(OLE2)
    if ext == "jpg":
        return data.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "txt":
        return _is_text(data)
    if not data.startswith(b"PK\x03\x04"):
        return False
    names, mimetype = _zip_names(data)
    if ext == "docx":
        return "[Content_Types].xml" in names and any(n.startswith("word/") for n in names)
    if ext == "xlsx":
        return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)
    if ext == "odt":
        return mimetype.strip() == b"application/vnd.oasis.opendocument.text"
    return False


def allowed_list() -> str:
    return ", ".join(ALLOWED)


def clean_name(name: str) -> str:
    """The file name as shown to the other side: no path, no control characters, ≤ 150 chars."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot else name[:150]
    return name or "file"


def too_large_message(size: int) -> str:
    return _("The file is too large (%(size)s); the limit is %(limit)s.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(max_bytes()),
    }


def check_extension(name: str) -> str:
    """The allowed extension of `name` (jpeg → jpg), else DomainError naming the allowed types."""
    cleaned = clean_name(name)
    ext = cleaned.rpartition(".")[2].lower() if "." in cleaned else ""
    ext = ALIASES.get(ext, ext)
    if ext not in CONTENT_TYPES:
        raise DomainError(
            _("Files of type “%(type)s” cannot be sent. Allowed types: %(allowed)s.")
            % {"type": ext or _("without an extension"), "allowed": allowed_list()},
            code="file_type",
        )
    return ext


def check_file(name: str, data: bytes) -> tuple[str, str]:
    """(extension, content type) of an allowed file, else DomainError naming the type or limit."""
    ext = check_extension(name)
    if len(data) > max_bytes():
        raise DomainError(too_large_message(len(data)), code="file_too_large")
    if not data:
        raise DomainError(_("The file is empty."), code="file_empty")
    if not _content_matches(ext, data):
        raise DomainError(
            _(
                "The file is named .%(type)s but its content is not a %(type)s document. "
                "Allowed types: %(allowed)s."
            )
            % {"type": ext, "allowed": allowed_list()},
            code="file_content",
        )
    return ext, CONTENT_TYPES[ext]
