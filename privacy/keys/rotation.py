"""Re-encrypt every encrypted value under the current CRYPTOGRAPHY_KEY.

Values sealed under a person's data key (privacy.protection.sealing) need no re-encryption:
their data keys are re-wrapped first (keystore.rewrap_all: work per person, not per value),
then what remains under the shop-wide key is re-encrypted as before; rows whose values are all
sealed per person are skipped by a filter the database evaluates (no value is read or rewritten).

Values under CRYPTOGRAPHY_OLD_KEYS stay readable throughout (KeyRing), so the shop runs
normally while this works in batches, one transaction per batch, recording its progress
per model; a crash resumes where it stopped, and re-encrypting a row twice is harmless.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from privacy.keys.sweep import SweepReport, signin_columns, signin_reseal, with_shop_wide_values
from privacy.models import KeyRotationProgress
from privacy.protection import keystore, signin
from privacy.protection.crypto import KEY_RING, encrypted_fields, key_fingerprint
from privacy.protection.rows import rows_update
from privacy.protection.sealing import is_sealed, key_id_of


@dataclass
class RotationReport:
    model_label: str
    rows: int


def encrypted_models():
    return sorted((m for m in apps.get_models() if encrypted_fields(m)), key=lambda m: m._meta.label)


def rotate(*, batch_size: int = 1000, stop_after_batches: int | None = None) -> list[RotationReport]:
    fingerprint = key_fingerprint(settings.CRYPTOGRAPHY_KEY)
    rewrapped, batches = keystore.rewrap_all(batch_size=batch_size, stop_after_batches=stop_after_batches)
    reports = [RotationReport("data keys (re-wrapped)", rewrapped)]
    if stop_after_batches is not None and batches >= stop_after_batches:
        return reports
    # Sign-in emails still under the shop-wide key (their migration, an outage) move under their
    # person's key, whose wrapping was just renewed: nothing of them depends on the old key after.
    moved = SweepReport()
    signin_reseal(batch_size=batch_size, report=moved)
    reports.append(RotationReport("sign-in emails (moved under their person's key)", sum(moved.resealed.values())))
    for model in encrypted_models():
        names = [f.name for f in encrypted_fields(model)]
        progress, _ = KeyRotationProgress.objects.get_or_create(model_label=model._meta.label,
                                                                key_fingerprint=fingerprint)
        done = 0
        while progress.finished_at is None:
            if stop_after_batches is not None and batches >= stop_after_batches:
                return reports
            with transaction.atomic():
                # Rows whose every value is sealed per person need nothing: their keys were re-wrapped.
                pending = with_shop_wide_values(model, model._base_manager.filter(pk__gt=progress.last_pk))
                rows = list(pending.order_by("pk").only("pk", *names)[:batch_size])
                if rows:
                    rows_update(model, rows, names)  # decrypted with any key, written with the new
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
    """Raw scan: how many rows hold a value the current key cannot open, directly or through a
    data key still wrapped under an old master key (should be 0 after rotation)."""
    result = {}
    for model in encrypted_models():
        table = connection.ops.quote_name(model._meta.db_table)
        cols = [connection.ops.quote_name(f.column) for f in encrypted_fields(model)]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(cols)} FROM {table}")
            rows = [[bytes(v) for v in row if v is not None] for row in cursor.fetchall()]
        stale_keys = keystore.stale_key_ids({key_id_of(v) for row in rows for v in row if is_sealed(v)})
        result[model._meta.label] = sum(
            any(key_id_of(v) in stale_keys if is_sealed(v) else not KEY_RING.current_key_opened(v) for v in row)
            for row in rows)
    for model, column in signin_columns():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {connection.ops.quote_name(column.column)} FROM {connection.ops.quote_name(model._meta.db_table)}")
            bodies = [signin.body_of(v) for (v,) in cursor.fetchall() if signin.is_composed(v)]
        stale_keys = keystore.stale_key_ids({key_id_of(b) for b in bodies if is_sealed(b)})
        result[f"{model._meta.label}.{column.name}"] = sum(
            key_id_of(b) in stale_keys if is_sealed(b) else not KEY_RING.current_key_opened(base64.urlsafe_b64decode(b))
            for b in bodies)
    return result
