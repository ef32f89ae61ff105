"""Private files (exports, support attachments, anything later): the one way to write, read,
list and delete them, through Django's STORAGES API under the alias "private".

What it guarantees:
- No caller opens a private file by path: the "private" storage is a folder under var/ by
  default (PRIVATE_ROOT, files 0600 in 0700 folders) or an S3-compatible bucket in production
  (privacy.protection.storage_s3, objects private), and every web and worker host reads what
  any other wrote.
- Every byte stored is ciphertext of our own streaming format (privacy.protection.stream):
  the storage never sees plaintext, whatever it is. A file written for a row of a model sealed
  per person (`owner`, e.g. a support attachment) is sealed under that person's data key, so
  erasure makes every copy of it unreadable, backups of the storage included (P13).
- Nothing is ever held whole in memory: writing seals 64 KiB segments as they come, reading
  yields them one by one.
- A write that fails leaves no object behind; neither storage ever gives out a URL.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from privacy.protection.crypto import KEY_RING
from privacy.protection.stream import EncryptingWriter, KeyGone, decrypting_chunks, is_stream

log = logging.getLogger(__name__)
ALIAS = "private"
# Folder (or key prefix) and file-name shape of each kind of private file: names are random,
# made by us, and checked here so a name from the database can never walk out of its folder.
KINDS = {"exports": re.compile(r"[0-9a-f]{32}\.zip\.enc"), "attachments": re.compile(r"[0-9a-f]{32}\.bin")}


class FileUnavailable(Exception):
    """The file is sealed under a person's data key and the key store cannot be reached now."""


class PrivateFileSystemStorage(FileSystemStorage):
    """The local default: PRIVATE_ROOT (read when used, so tests can move it), owner-only
    permissions, writes that appear under their name only once complete, and no URL."""

    def __init__(self, location=None, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, base_url=None, **kwargs)

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def _open(self, name, mode="rb"):
        if "w" not in mode:
            return super()._open(name, mode)
        return _AtomicFile(self.path(name))

    def url(self, name):
        raise ValueError("Private files have no URL.")


class _AtomicFile(File):
    """Written under a temporary name (0600 from the first byte), renamed when closed."""

    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        # Unique per writer: two deliveries of the same task never write into one partial file.
        self._final, self._partial = path, f"{path}.{os.getpid()}-{secrets.token_hex(4)}.part"
        fd = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        super().__init__(os.fdopen(fd, "wb"), name=path)

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()
            os.replace(self._partial, self._final)

    def discard(self) -> None:
        self.file.close()
        try:
            os.unlink(self._partial)
        except FileNotFoundError:
            pass


def private_storage() -> Storage:
    return storages[ALIAS]


def private_key(kind: str, name: str) -> str:
    """The storage name of one of our files; ValueError for a name we could not have made."""
    if kind not in KINDS or not KINDS[kind].fullmatch(name or ""):
        raise ValueError("Not a private file name.")
    return f"{kind}/{name}"


def _person_key(owner) -> tuple[str, bytes] | None:
    """The data key of the person `owner` (a row, maybe not saved yet) belongs to, when its model
    is sealed per person; None for the shop-wide key (also when the key store cannot be reached:
    the file is still written, as the row's fields would be)."""
    from privacy.protection import keystore, sealing

    if owner is None or owner._meta.label not in sealing.PERSON_KEY_MODELS:
        return None
    subject = sealing.subject_of(owner)
    if subject is None:
        return None
    try:
        return keystore.key_for_subject(subject)
    except keystore.KeyStoreUnavailable:
        log.warning("key store unavailable: a %s file is sealed under the shop-wide key", owner._meta.label)
        return None


@contextmanager
def sealed_writer(*, kind: str, name: str, owner=None) -> Iterator[BinaryIO]:
    """Yields a write-only file object; what is written to it is sealed segment by segment and
    sent to the storage as it goes. Stored under its name only if the block ends normally.
    With `owner` (the row the file belongs to), under its person's data key when there is one."""
    key = private_key(kind, name)
    person_key = _person_key(owner)
    storage = private_storage()
    target = storage.open(key, "wb")
    writer = EncryptingWriter(target, person_key=person_key)
    try:
        yield writer
        writer.close()
    except BaseException:
        if isinstance(target, _AtomicFile):
            target.discard()
        else:
            target.close()
            storage.delete(key)  # an object storage completes the upload on close: remove it
        raise
    target.close()


def sealed_write(*, kind: str, name: str, data: bytes, owner=None) -> None:
    with sealed_writer(kind=kind, name=name, owner=owner) as writer:
        writer.write(data)


def sealed_chunks(*, kind: str, name: str) -> Iterator[bytes] | None:
    """The plaintext of a stored file, one segment at a time (the storage is read as the caller
    consumes), or None when there is no such file. StreamError if it was altered; its KeyGone
    when the person it was sealed for was erased; KeyStoreUnavailable when their key cannot be
    fetched now."""
    key = private_key(kind, name)
    storage = private_storage()
    try:
        source = storage.open(key, "rb")
    except FileNotFoundError:
        return None
    head = source.read(4)
    if not is_stream(head):  # written whole with the key ring, before the streaming format
        data = head + source.read()
        source.close()
        return iter([KEY_RING.decrypt(data)])
    return _chunks(source, head)


def _chunks(source, head: bytes) -> Iterator[bytes]:
    with source:
        yield from decrypting_chunks(_Prefixed(head, source))


class _Prefixed:
    """A read-only stream that first gives back bytes already read (the format check)."""

    def __init__(self, head: bytes, source):
        self._head, self._source = head, source

    def read(self, n: int = -1) -> bytes:
        if self._head:
            part, self._head = (self._head, b"") if n < 0 or n >= len(self._head) else (self._head[:n],
                                                                                         self._head[n:])
            return part
        return self._source.read(n)


def sealed_read(*, kind: str, name: str) -> bytes | None:
    """For small files only (attachments, a few MB at most). None when there is no such file or
    it was sealed for a person since erased (their key is gone: as good as no file); raises
    FileUnavailable when the key store cannot be reached, StreamError if it was altered."""
    from privacy.protection.keystore import KeyStoreUnavailable

    chunks = sealed_chunks(kind=kind, name=name)
    try:
        return None if chunks is None else b"".join(chunks)
    except KeyGone:
        return None
    except KeyStoreUnavailable as exc:
        raise FileUnavailable("The key store cannot be reached; try again shortly.") from exc


def private_delete(*, kind: str, name: str) -> None:
    """Idempotent: deleting what is not there is fine."""
    private_storage().delete(private_key(kind, name))


def private_names(*, kind: str) -> list[str]:
    """Every stored file of a kind (partial files of unfinished writes included), sorted."""
    try:
        _, names = private_storage().listdir(kind)
    except FileNotFoundError:
        return []
    return sorted(names)


def private_written_at(*, kind: str, name: str) -> datetime | None:
    """When a file found by private_names was last written; None if it is gone meanwhile."""
    if "/" in name or name.startswith("."):
        raise ValueError("Not a private file name.")
    try:
        return private_storage().get_modified_time(f"{kind}/{name}")
    except FileNotFoundError:
        return None


def private_delete_any(*, kind: str, name: str) -> None:
    """Delete a leftover found by private_names (a failed write's partial file included)."""
    if "/" in name or name.startswith("."):
        raise ValueError("Not a private file name.")
    private_storage().delete(f"{kind}/{name}")
