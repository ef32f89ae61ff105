"""What the shop's private storage holds, read the way an auditor would: every file under the
private and media folders, opened with our keys (sealed streams, or the older whole-file format),
so a scan for a person's values looks inside them and not only at their ciphertext."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from orders.support import KIND as ATTACHMENTS
from privacy.protection.crypto import KEY_RING
from privacy.protection.storage import private_names
from privacy.protection.stream import decrypting_chunks, is_stream


def stored_files() -> Iterator[tuple[Path, bytes]]:
    """(path, plaintext) of every stored file; a file that is not ours is returned as it is."""
    for root in (Path(settings.PRIVATE_ROOT), Path(settings.MEDIA_ROOT)):
        for path in root.rglob("*") if root.exists() else []:
            if not path.is_file():
                continue
            data = path.read_bytes()
            try:
                data = b"".join(decrypting_chunks(io.BytesIO(data))) if is_stream(data) else KEY_RING.decrypt(data)
            except Exception:  # noqa: S110  (not one of our sealed files: scanned as it is)
                pass
            yield path, data


def attachment_exists(name: str) -> bool:
    return name in private_names(kind=ATTACHMENTS)
