"""Customer service: conversations with optional attachments (P24, P10).

Attachments are images (PNG, JPEG, GIF, WebP) or PDF, size-limited, and their type is
checked by content, not by name or declared type. They are sealed with our streaming format
and kept in the private storage (privacy.protection.storage: a local folder or an
S3-compatible bucket) under random names, never under a public URL: the
owner downloads them through their conversation, staff through the admin (logged)."""
from __future__ import annotations

import io
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from privacy.protection import email_index, private_delete, sealed_read, sealed_write

from .models import Attachment, Notification, Order, SupportMessage, SupportThread
from .notifications.outbox import notification_queue

MAX_FILES = 3
KIND = "attachments"  # their folder in the private storage
SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
              (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf")]


FILE_GONE = "This file is no longer kept: it was deleted, or erased with the person who sent it."
FILE_UNAVAILABLE = "This file cannot be opened right now. Please try again in a few minutes."


class SupportError(Exception):
    """Shown to the person as it is; nothing was stored."""


def sniff(data: bytes) -> str | None:
    """The real type of a file from its content, or None if it is not an allowed one."""
    kind = next((t for magic, t in SIGNATURES if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "image/webp"
    if kind is None:
        return None
    if kind.startswith("image/"):
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()  # a PNG header on something that is not a PNG fails here
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            return None  # not an image, or one claiming absurd dimensions
    elif b"%%EOF" not in data[-1024:]:
        return None
    return kind


def validate_files(files) -> list[tuple[str, bytes, str]]:
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise SupportError(f"Attach at most {MAX_FILES} files.")
    checked = []
    for f in files:
        if f.size > settings.SHOP_ATTACHMENT_MAX_BYTES:
            raise SupportError(f"“{f.name[:60]}” is larger than {settings.SHOP_ATTACHMENT_MAX_BYTES // 1048576} MB.")
        data = f.read()
        kind = sniff(data)
        if kind is None:
            raise SupportError(f"“{f.name[:60]}” is not an image (PNG, JPEG, GIF, WebP) or a PDF file. "
                               "Nothing was sent; please attach another file.")
        checked.append((f.name[:120], data, kind))
    return checked


def _store(message: SupportMessage, checked) -> None:
    for original, data, kind in checked:
        attachment = Attachment(message=message, file_name=f"{secrets.token_hex(16)}.bin", original_name=original,
                                content_type=kind, size=len(data))
        # Sealed under the person's data key (the row names them): erasure reaches every copy.
        sealed_write(kind=KIND, name=attachment.file_name, data=data, owner=attachment)
        attachment.save()


def attachment_read(attachment: Attachment) -> bytes:
    """FileNotFoundError when the file is gone or its person's key is (erased); FileUnavailable
    while the key store cannot be reached."""
    data = sealed_read(kind=KIND, name=attachment.file_name)
    if data is None:
        raise FileNotFoundError("The attachment's file is gone.")
    return data


def attachment_file_delete(*, name: str) -> None:
    """Delete an attachment's file from the private storage (idempotent)."""
    private_delete(kind=KIND, name=name)


@transaction.atomic
def thread_open(*, subject: str, body: str, user=None, email: str = "", order: Order | None = None,
                files=()) -> SupportThread:
    checked = validate_files(files)  # before anything is written
    email = user.email if user is not None else email
    thread = SupportThread.objects.create(user=user, order=order, email=email, email_index=email_index(email),
                                          subject=subject.strip()[:160], token=secrets.token_hex(16))
    message = SupportMessage.objects.create(thread=thread, body=body.strip())
    _store(message, checked)
    return thread


@transaction.atomic
def customer_reply(*, thread: SupportThread, body: str, files=()) -> SupportMessage:
    checked = validate_files(files)
    message = SupportMessage.objects.create(thread=thread, body=body.strip())
    _store(message, checked)
    SupportThread.objects.filter(pk=thread.pk).update(status=SupportThread.Status.OPEN, updated_at=timezone.now())
    return message


@transaction.atomic
def staff_reply(*, thread: SupportThread, staff, body: str) -> SupportMessage:
    if not body.strip():
        raise SupportError("Write a reply first.")
    message = SupportMessage.objects.create(thread=thread, body=body.strip(), from_staff=True, staff_user=staff)
    SupportThread.objects.filter(pk=thread.pk).update(status=SupportThread.Status.ANSWERED, updated_at=timezone.now())
    notification_queue(kind=Notification.Kind.SUPPORT_REPLY, thread=thread, ref=message.pk)
    return message
