"""Files chosen on a message form that came back with an error are kept on the server for a short
while, so the user does not need to choose them again: the form shows them as kept (a check box
each, ticked) and the next post names them by token.

A kept file belongs to the user who chose it; another user's token, or an expired one, finds
nothing. Sending the message removes the kept files; ``kept_uploads_sweep`` (a periodic task)
removes the ones left behind.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from sectors.models import User

from .attachments import attachment_name, attachment_type
from .models import KeptUpload

MAX_KEPT = 20


def kept_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "KEPT_UPLOAD_HOURS", 2))


def uploads_keep(*, user: User, files: Sequence[UploadedFile]) -> tuple[list[KeptUpload], list[str]]:
    """Keep the files of an allowed type; the others are returned as errors (not kept)."""
    kept, errors = [], []
    for upload in files[:MAX_KEPT]:
        try:
            mime = attachment_type(upload)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        item = KeptUpload(
            user=user, filename=attachment_name(upload.name, mime), content_type=mime, size=upload.size or 0
        )
        item.file.save(item.token.hex, upload, save=False)
        item.save()
        kept.append(item)
    return kept, errors


def uploads_kept(*, user: User, tokens: Iterable[str]) -> list[KeptUpload]:
    """The user's unexpired kept files named by ``tokens`` (anything else is ignored)."""
    valid = []
    for token in list(tokens)[:MAX_KEPT]:
        try:
            valid.append(uuid.UUID(str(token)))
        except ValueError:
            continue
    if not valid:
        return []
    since = timezone.now() - kept_lifetime()
    return list(KeptUpload.objects.filter(user=user, token__in=valid, created_at__gte=since))


def kept_files(kept: Sequence[KeptUpload]) -> list[File]:
    """The kept files, to be sent like freshly uploaded ones."""
    return [File(item.file.storage.open(item.file.name, "rb"), name=item.filename) for item in kept]


def _remove(items: Iterable[KeptUpload]) -> int:
    count = 0
    for item in items:
        item.file.delete(save=False)
        item.delete()
        count += 1
    return count


def uploads_discard(kept: Sequence[KeptUpload], files: Sequence[File] = ()) -> None:
    """Once the message is sent (committed): close the opened files and remove the kept ones."""

    def remove() -> None:
        for opened in files:
            opened.close()
        _remove(kept)

    transaction.on_commit(remove)


def kept_uploads_sweep(*, now: datetime.datetime | None = None) -> int:
    """Remove the kept files that expired; returns how many."""
    expired = KeptUpload.objects.filter(created_at__lt=(now or timezone.now()) - kept_lifetime())
    return _remove(expired.iterator())
