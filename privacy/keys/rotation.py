"""Re-encrypt every encrypted value under the current CRYPTOGRAPHY_KEY.

Values under CRYPTOGRAPHY_OLD_KEYS stay readable throughout (KeyRing), so the shop runs
normally while this works in batches, one transaction per batch, recording its progress
per model; a crash resumes where it stopped, and re-encrypting a row twice is harmless.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from privacy.models import KeyRotationProgress
from privacy.protection.crypto import KEY_RING, encrypted_fields, key_fingerprint


@dataclass
class RotationReport:
    model_label: str
    rows: int


def encrypted_models():
    return sorted((m for m in apps.get_models() if encrypted_fields(m)), key=lambda m: m._meta.label)


def rotate(*, batch_size: int = 1000, stop_after_batches: int | None = None) -> list[RotationReport]:
    fingerprint = key_fingerprint(settings.CRYPTOGRAPHY_KEY)
    reports, batches = [], 0
    for model in encrypted_models():
        names = [f.name for f in encrypted_fields(model)]
        progress, _ = KeyRotationProgress.objects.get_or_create(model_label=model._meta.label,
                                                                key_fingerprint=fingerprint)
        done = 0
        while progress.finished_at is None:
            if stop_after_batches is not None and batches >= stop_after_batches:
                return reports
            with transaction.atomic():
                rows = list(model._base_manager.filter(pk__gt=progress.last_pk).order_by("pk")
                            .only("pk", *names)[:batch_size])
                if rows:
                    model._base_manager.bulk_update(rows, names)  # decrypted with any key, written with the new
                    progress.last_pk = rows[-1].pk
                    progress.rows_done += len(rows)
                    done += len(rows)
                if len(rows) < batch_size:
                    progress.finished_at = timezone.now()
                progress.save()
            batches += bool(rows)  # a crash can only happen while work is being done
        reports.append(RotationReport(model._meta.label, done))
    return reports


def count_under_old_keys() -> dict[str, int]:
    """Raw scan: how many stored values the current key cannot open (should be 0 after rotation)."""
    result = {}
    for model in encrypted_models():
        table = connection.ops.quote_name(model._meta.db_table)
        cols = [connection.ops.quote_name(f.column) for f in encrypted_fields(model)]
        stale = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(cols)} FROM {table}")
            for row in cursor.fetchall():
                stale += any(v is not None and not KEY_RING.current_key_opened(bytes(v)) for v in row)
        result[model._meta.label] = stale
    return result
