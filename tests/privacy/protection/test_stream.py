"""The streaming file encryption (privacy.protection.stream): round trip at every size around a
segment boundary, no plaintext in the output, and any change, reordering or cut is refused."""
from __future__ import annotations

import io
import os

import pytest

from privacy.protection.stream import (
    HEADER,
    SEGMENT,
    TAG,
    EncryptingWriter,
    StreamError,
    decrypting_chunks,
)


def _seal(data: bytes) -> bytes:
    sink = io.BytesIO()
    with EncryptingWriter(sink) as writer:
        for i in range(0, len(data), 1000):
            writer.write(data[i:i + 1000])
    return sink.getvalue()


def _open(blob: bytes) -> bytes:
    return b"".join(decrypting_chunks(io.BytesIO(blob)))


@pytest.mark.promise("P10")
@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 7])
def test_round_trip_at_segment_boundaries(size):
    data = os.urandom(size // 2) + b"alice@example.com" * (size // 34) if size else b""
    data = data[:size].ljust(size, b"x")
    blob = _seal(data)
    assert _open(blob) == data
    assert len(blob) == HEADER + max(1, -(-size // SEGMENT)) * TAG + size


@pytest.mark.promise("P10")
def test_no_plaintext_in_the_ciphertext():
    blob = _seal(b"alice@example.com 12 Baker Street " * 5000)
    assert b"alice@example.com" not in blob and b"Baker" not in blob


@pytest.mark.promise("P10")
def test_altered_reordered_or_cut_streams_are_refused():
    data = os.urandom(3 * SEGMENT + 10)
    blob = _seal(data)
    flipped = bytearray(blob)
    flipped[HEADER + 5] ^= 1
    seg = SEGMENT + TAG
    swapped = blob[:HEADER] + blob[HEADER + seg:HEADER + 2 * seg] + blob[HEADER:HEADER + seg] + blob[HEADER + 2 * seg:]
    cut_at_boundary = blob[:HEADER + 2 * seg]
    for bad in (bytes(flipped), swapped, cut_at_boundary, blob[:-1], b"not ours at all" * 10):
        with pytest.raises(StreamError):
            _open(bad)


@pytest.mark.promise("P10")
def test_old_key_still_opens_and_unknown_key_is_refused(settings):
    blob = _seal(b"order history")
    old = settings.CRYPTOGRAPHY_KEY
    settings.CRYPTOGRAPHY_KEY, settings.CRYPTOGRAPHY_OLD_KEYS = "a-new-key-" + "x" * 40, [old]
    assert _open(blob) == b"order history"
    settings.CRYPTOGRAPHY_OLD_KEYS = []
    with pytest.raises(StreamError):
        _open(blob)
