"""The key store: one random data key per person, kept outside the shop's database (P10, P13).

Invariants:
- DataKey and Tombstone rows live only in the "keys" database alias (KeyStoreRouter); the
  shop's database, and so its backups, never hold a data key.
- A data key is stored wrapped with AES-GCM under a key derived from CRYPTOGRAPHY_KEY; it
  unwraps with the current or any of CRYPTOGRAPHY_OLD_KEYS (the fingerprint stored beside it
  says which), and `rewrap_all` moves every key to the current master key: work per person.
- `destroy_subjects` deletes the keys and writes a tombstone (reference and time only): every
  value sealed under a destroyed key is unreadable, in the live database and in every backup.
- A missing key, or a key store that cannot be reached, never raises to a caller: reading gives
  None (shown as a placeholder), sealing falls back to the shop-wide key.
Unwrapped keys are cached per process (bounded, and for KEY_CACHE_SECONDS) so a page of 100
orders does not ask the key store 100 times.
- A key handed out for writing is marked used (`used_at`, at most once per TOUCH_EVERY, and always
  when read from the store): the daily sweep (privacy.keys.sweep) destroys only keys idle for
  longer than KEY_IDLE, which is far longer than TOUCH_EVERY + KEY_CACHE_SECONDS + any transaction,
  so a checkout about to seal under a key can never lose it to the sweep.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from privacy.protection.crypto import _derive, key_fingerprint

log = logging.getLogger(__name__)

ALIAS = "keys"
KEY_MODELS = frozenset({"datakey", "tombstone"})
KEY_CACHE_SIZE = 50_000
KEY_CACHE_SECONDS = 300
TOUCH_EVERY = timedelta(hours=1)
KEY_IDLE = timedelta(days=1)


class KeyStoreUnavailable(Exception):
    """The key store's database could not be reached."""


class KeyStoreRouter:
    """DataKey and Tombstone go to the "keys" alias, and nothing else does."""

    def _ours(self, model) -> bool:
        return model._meta.app_label == "privacy" and model._meta.model_name in KEY_MODELS

    def db_for_read(self, model, **_hints):
        return ALIAS if self._ours(model) else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **_hints):
        ours = app_label == "privacy" and model_name in KEY_MODELS
        if db == ALIAS:
            return ours
        return False if ours else None


def _models():
    return apps.get_model("privacy", "DataKey"), apps.get_model("privacy", "Tombstone")


def _kek(raw_key: str) -> AESGCM:
    return AESGCM(_derive(raw_key, b"shop-kek"))


def _fingerprint(raw_key: str) -> str:
    return key_fingerprint(raw_key)


def _wrap(data_key: bytes, key_id: str) -> tuple[bytes, str]:
    nonce = os.urandom(12)
    raw = settings.CRYPTOGRAPHY_KEY
    return nonce + _kek(raw).encrypt(nonce, data_key, key_id.encode()), _fingerprint(raw)


def _unwrap(wrapped: bytes, key_id: str, kek: str) -> bytes:
    """Raises KeyStoreUnavailable when no configured master key opens it (a configuration
    error, not an erasure: never cached as gone)."""
    wrapped = bytes(wrapped)
    candidates = [settings.CRYPTOGRAPHY_KEY, *settings.CRYPTOGRAPHY_OLD_KEYS]
    candidates.sort(key=lambda raw: _fingerprint(raw) != kek)  # the named master key first
    for raw in candidates:
        try:
            return _kek(raw).decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        except InvalidTag:
            continue
    log.error("data key %s opens with no configured master key", key_id)
    raise KeyStoreUnavailable(f"data key {key_id} opens with no configured master key")


class _Cache:
    """key id -> data key (None: known to be gone), subject -> key id; bounded, expiring."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()
        self.subjects: dict[str, str] = {}

    def get(self, key_id: str):
        with self.lock:
            hit = self.keys.get(key_id)
            if hit is None or hit[0] < time.monotonic():
                return False, None
            self.keys.move_to_end(key_id)
            return True, hit[1]

    def put(self, key_id: str, key: bytes | None, subject: str = "") -> None:
        with self.lock:
            self.keys[key_id] = (time.monotonic() + KEY_CACHE_SECONDS, key)
            self.keys.move_to_end(key_id)
            if subject:
                self.subjects[subject] = key_id
            while len(self.keys) > KEY_CACHE_SIZE:
                self.keys.popitem(last=False)
            if len(self.subjects) > KEY_CACHE_SIZE:
                self.subjects.clear()

    def subject(self, subject: str) -> str | None:
        with self.lock:
            key_id = self.subjects.get(subject)
        if key_id is not None and self.get(key_id)[0]:
            return key_id
        return None

    def clear(self) -> None:
        with self.lock:
            self.keys.clear()
            self.subjects.clear()


_cache = _Cache()


def forget_cache() -> None:
    """Drop every unwrapped key from this process (tests; after restoring a key store)."""
    _cache.clear()


def data_key(key_id: str) -> bytes | None:
    """The unwrapped key, or None when it was destroyed. Raises KeyStoreUnavailable."""
    found, key = _cache.get(key_id)
    if found:
        return key
    DataKey, _ = _models()
    try:
        row = DataKey.objects.filter(key_id=key_id).values_list("subject", "wrapped", "kek").first()
    except DatabaseError as exc:
        raise KeyStoreUnavailable from exc
    key = _unwrap(row[1], key_id, row[2]) if row else None  # no row: destroyed
    _cache.put(key_id, key, row[0] if row else "")
    return key


def key_for_subject(subject: str) -> tuple[str, bytes]:
    """The subject's key id and key, created on first use. Raises KeyStoreUnavailable."""
    key_id = _cache.subject(subject)
    if key_id is not None:
        key = _cache.get(key_id)[1]
        if key is not None:
            return key_id, key
    DataKey, _ = _models()
    try:
        row = DataKey.objects.filter(subject=subject).values_list("key_id", "wrapped", "kek", "used_at").first()
        if row is not None and not _touch(row[0], row[3]):
            row = None  # the sweep destroyed it a moment ago: this person starts a new key
        if row is None:
            key_id, key = secrets.token_urlsafe(16), AESGCM.generate_key(bit_length=256)
            wrapped, kek = _wrap(key, key_id)
            try:
                with transaction.atomic(using=ALIAS):
                    DataKey.objects.create(subject=subject, key_id=key_id, wrapped=wrapped, kek=kek,
                                           used_at=timezone.now())
            except IntegrityError:  # another process created it first
                row = DataKey.objects.filter(subject=subject).values_list("key_id", "wrapped", "kek").first()
    except DatabaseError as exc:
        raise KeyStoreUnavailable from exc
    if row is not None:
        key_id, key = row[0], _unwrap(row[1], row[0], row[2])
    _cache.put(key_id, key, subject)
    return key_id, key


def _touch(key_id: str, used_at: datetime | None) -> bool:
    """Mark a key used (at most once per TOUCH_EVERY). False when the key is gone by now."""
    now = timezone.now()
    if used_at is not None and used_at > now - TOUCH_EVERY:
        return True
    DataKey, _ = _models()
    return bool(DataKey.objects.filter(key_id=key_id).update(used_at=now))


def idle_keys(*, idle_since: datetime, after_pk: int = 0, limit: int = 1000) -> list[tuple[int, str, str]]:
    """(pk, subject, key id) of keys neither created nor handed out for writing since `idle_since`,
    in primary-key order after `after_pk`. Raises KeyStoreUnavailable."""
    DataKey, _ = _models()
    try:
        return list(DataKey.objects.annotate(last=Coalesce("used_at", "created_at"))
                    .filter(pk__gt=after_pk, last__lt=idle_since).order_by("pk")
                    .values_list("pk", "subject", "key_id")[:limit])
    except DatabaseError as exc:
        raise KeyStoreUnavailable from exc


def rename_subject(*, old: str, new: str) -> None:
    """A key created before its row had an id (a new account) takes the row's reference."""
    DataKey, _ = _models()
    try:
        DataKey.objects.filter(subject=old).update(subject=new)
    except DatabaseError as exc:
        raise KeyStoreUnavailable from exc
    with _cache.lock:
        key_id = _cache.subjects.pop(old, None)
        if key_id:
            _cache.subjects[new] = key_id


def destroy_subjects(subjects: set[str], *, idle_since: datetime | None = None) -> int:
    """Destroy these people's data keys and leave a tombstone for each (idempotent: a subject
    already tombstoned with no key left gets no second tombstone). Returns keys destroyed.
    With `idle_since` (the sweep), only keys still idle since then go, re-checked under a row
    lock, and only those get a tombstone: a key handed out meanwhile stays."""
    DataKey, Tombstone = _models()
    subjects = {s for s in subjects if s}
    if not subjects:
        return 0
    with transaction.atomic(using=ALIAS):
        found = DataKey.objects.filter(subject__in=subjects)
        if idle_since is not None:
            found = found.annotate(last=Coalesce("used_at", "created_at")).filter(last__lt=idle_since)
        rows = list(found.select_for_update().values_list("subject", "key_id"))
        if idle_since is not None:
            subjects = {subject for subject, _ in rows}
        destroyed = DataKey.objects.filter(key_id__in=[key_id for _, key_id in rows]).delete()[0]
        already = set(Tombstone.objects.filter(subject__in=subjects).values_list("subject", flat=True))
        # a tombstone per erasure: a first one, or again when the person came back with a new key
        due = (subjects - already) | {subject for subject, _ in rows}
        Tombstone.objects.bulk_create([Tombstone(subject=s) for s in sorted(due)])
    key_ids = [key_id for _, key_id in rows]
    for key_id in key_ids:
        _cache.put(key_id, None)
    with _cache.lock:
        for subject in subjects:
            _cache.subjects.pop(subject, None)
    return destroyed


def tombstones() -> list[tuple[str, object]]:
    """Every (subject, erased_at), oldest first."""
    _, Tombstone = _models()
    return list(Tombstone.objects.order_by("erased_at", "pk").values_list("subject", "erased_at"))


def rewrap_all(*, batch_size: int = 1000, stop_after_batches: int | None = None) -> tuple[int, int]:
    """Re-wrap every data key not yet under the current master key: one read and one write per
    person, whatever the number of values sealed under each key. Resumable: what is done is
    told by the stored fingerprint. Returns (keys re-wrapped, batches used)."""
    DataKey, _ = _models()
    current = _fingerprint(settings.CRYPTOGRAPHY_KEY)
    done = batches = 0
    while stop_after_batches is None or batches < stop_after_batches:
        with transaction.atomic(using=ALIAS):
            rows = list(DataKey.objects.exclude(kek=current).order_by("pk")
                        .values_list("pk", "key_id", "wrapped", "kek")[:batch_size])
            # One prepared UPDATE per key (executemany): bulk_update's CASE over the whole batch
            # costs a comparison per key per row, which made re-wrapping quadratic in the batch.
            params = [(*_wrap(_unwrap(wrapped, key_id, kek), key_id), pk) for pk, key_id, wrapped, kek in rows]
            table = connections[ALIAS].ops.quote_name(DataKey._meta.db_table)
            with connections[ALIAS].cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET wrapped = %s, kek = %s WHERE id = %s", params)
        done += len(rows)
        batches += bool(rows)
        if len(rows) < batch_size:
            break
    return done, batches


def stale_key_ids(key_ids: set[str]) -> set[str]:
    """Of these key ids, those still wrapped under an old master key."""
    DataKey, _ = _models()
    current, ids, stale = _fingerprint(settings.CRYPTOGRAPHY_KEY), sorted(key_ids), set()
    for start in range(0, len(ids), 900):
        stale.update(DataKey.objects.filter(key_id__in=ids[start:start + 900]).exclude(kek=current)
                     .values_list("key_id", flat=True))
    return stale
