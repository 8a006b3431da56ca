"""What an attached file is: its type read from the content, and a file name that agrees with it.

The name a sender gives is not trusted: "scan.png" whose content is a PDF is stored as
"scan.pdf", so whoever downloads it opens it with the program for what it really is.
"""

from __future__ import annotations

import re

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# The types a message may carry, each with its usual extension.
ATTACHMENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
}
# Other spellings of the same type's extension that are kept as the sender wrote them.
SAME_TYPE_EXTENSIONS = {"image/jpeg": {"jpg", "jpeg", "jpe", "jfif"}}
MAX_NAME = 255
# What counts as an extension: "brev.docx" has one; "Brev fra dr. Hansen" has none.
_EXTENSION = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,4})$")


def attachment_type(upload: UploadedFile) -> str:
    """The file type, read from the content (never from the name or the browser)."""
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ATTACHMENT_TYPES:
        raise ValidationError(
            {"attachments": [_("%(name)s is not a PDF, PNG, JPEG or GIF file.") % {"name": upload.name}]}
        )
    return kind.mime


def attachment_name(name: str | None, mime: str) -> str:
    """``name`` with the extension of ``mime``: a contradicting extension is replaced, a missing
    one added, a matching one (in any case or spelling) kept."""
    allowed = SAME_TYPE_EXTENSIONS.get(mime, {ATTACHMENT_TYPES[mime]})
    stem, extension = (name or "").strip(), ATTACHMENT_TYPES[mime]
    found = _EXTENSION.search(stem)
    if found:
        if found.group(1).lower() in allowed:
            extension = found.group(1)
        stem = stem[: found.start()]
    stem = stem or _("attachment")
    return f"{stem[: MAX_NAME - len(extension) - 1]}.{extension}"
