"""Streaming authenticated encryption for private files (exports, attachments), so no whole
file is ever held in memory to encrypt or decrypt it.

The STREAM construction over AES-256-GCM: a 40-byte header (magic, version, the fingerprint
of the key that wrote it, a random salt and nonce prefix), then segments of at most 64 KiB of
plaintext, each sealed with nonce = prefix(7) + counter(4) + last-segment flag(1) and the
header as associated data. Reordering, dropping or truncating segments (even at a segment
boundary) fails authentication. The per-file key is derived with HKDF from the shop's
CRYPTOGRAPHY_KEY (or one of CRYPTOGRAPHY_OLD_KEYS when reading), never stored.

A person's file (a support attachment) is sealed under that person's data key instead (P13):
the header starts with PERSON_MAGIC and names the key id (length byte, then the id) in place of
the master key's fingerprint; the per-file key is derived with HKDF from the data key, looked up
in the key store (privacy.protection.keystore) when read. Once erasure destroys the data key,
every copy of the file (a restored bucket or folder backup included) stays unreadable: reading
raises KeyGone."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from privacy.protection.crypto import _derive, key_fingerprint

MAGIC = b"PFS\x01"
PERSON_MAGIC = b"PFP\x01"
SEGMENT = 64 * 1024
TAG = 16
HEADER = len(MAGIC) + 12 + 16 + 7  # magic, key fingerprint, salt, nonce prefix


class StreamError(Exception):
    """The file is not one of ours, was written with a key we no longer hold, or was altered."""


class KeyGone(StreamError):
    """The file was sealed under a person's data key, destroyed by their erasure."""


def _key(raw_key: str, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"privacy-first-shop stream v1")
    return AESGCM(hkdf.derive(_derive(raw_key, b"shop-stream")))


def _person_key(data_key: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"privacy-first-shop person stream v1")
    return AESGCM(hkdf.derive(data_key))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 2**32:
        raise StreamError("File too large for one stream.")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only, non-seekable file object: write plaintext, the ciphertext goes to `sink`
    segment by segment. close() seals the last segment (it does not close the sink)."""

    def __init__(self, sink: BinaryIO, *, person_key: tuple[str, bytes] | None = None):
        """`person_key`: (key id, data key) to seal under a person's key; else the shop's."""
        self._sink = sink
        salt, self._prefix = os.urandom(16), os.urandom(7)
        if person_key is not None:
            key_id = person_key[0].encode("ascii")
            if not 0 < len(key_id) < 256:
                raise ValueError("A key id of 1 to 255 characters.")
            self._header = PERSON_MAGIC + bytes([len(key_id)]) + key_id + salt + self._prefix
            self._aead = _person_key(person_key[1], salt)
        else:
            self._header = MAGIC + key_fingerprint(settings.CRYPTOGRAPHY_KEY).encode() + salt + self._prefix
            self._aead = _key(settings.CRYPTOGRAPHY_KEY, salt)
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        sink.write(self._header)

    def _seal(self, chunk: bytes, last: bool) -> None:
        self._sink.write(self._aead.encrypt(_nonce(self._prefix, self._counter, last), chunk, self._header))
        self._counter += 1

    def write(self, data) -> int:
        if self.closed:
            raise ValueError("write to a closed stream")
        self._buffer += data
        while len(self._buffer) > SEGMENT:  # keep at least one byte back for the last segment
            self._seal(bytes(self._buffer[:SEGMENT]), last=False)
            del self._buffer[:SEGMENT]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: segments are written whole (zipfile calls this)."""

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_exact(source: BinaryIO, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        part = source.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def is_stream(head: bytes) -> bool:
    return head[: len(MAGIC)] in (MAGIC, PERSON_MAGIC)


def _person_header(source: BinaryIO, magic: bytes) -> tuple[bytes, AESGCM, bytes]:
    from privacy.protection import keystore  # the key store's models load with the apps

    length = _read_exact(source, 1)
    key_id = _read_exact(source, length[0]) if length else b""
    rest = _read_exact(source, 16 + 7)
    if not length or len(key_id) < length[0] or len(rest) < 23:
        raise StreamError("Not an encrypted stream.")
    data_key = keystore.data_key(key_id.decode("ascii", "replace"))  # KeyStoreUnavailable: not now
    if data_key is None:
        raise KeyGone("Sealed under a data key that was destroyed (the person was erased).")
    return magic + length + key_id + rest, _person_key(data_key, rest[:16]), rest[16:]


def decrypting_chunks(source: BinaryIO) -> Iterator[bytes]:
    """Plaintext of a stream, one segment at a time; StreamError as soon as anything is wrong
    (before the altered segment's plaintext is ever yielded); KeyGone for a file whose person's
    key was destroyed; keystore.KeyStoreUnavailable when the key store cannot be reached."""
    magic = _read_exact(source, len(MAGIC))
    if magic == PERSON_MAGIC:
        header, aead, prefix = _person_header(source, magic)
    else:
        header = magic + _read_exact(source, HEADER - len(MAGIC))
        if len(header) < HEADER or magic != MAGIC:
            raise StreamError("Not an encrypted stream.")
        fingerprint, salt, prefix = header[4:16].decode("ascii", "replace"), header[16:32], header[32:39]
        raw = next((k for k in [settings.CRYPTOGRAPHY_KEY, *settings.CRYPTOGRAPHY_OLD_KEYS]
                    if key_fingerprint(k) == fingerprint), None)
        if raw is None:
            raise StreamError("Written with a key we no longer hold.")
        aead = _key(raw, salt)
    counter = 0
    current = _read_exact(source, SEGMENT + TAG)
    while True:
        following = _read_exact(source, SEGMENT + TAG) if len(current) == SEGMENT + TAG else b""
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), current, header)
        except InvalidTag as exc:
            raise StreamError("The file was altered or cut short.") from exc
        if last:
            return
        current, counter = following, counter + 1
