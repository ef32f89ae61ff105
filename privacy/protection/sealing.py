"""Personal fields sealed under their person's own data key (P10, P13).

For the models in PERSON_KEY_MODELS, an encrypted text field is stored as

    b"pk1:" + key id + b":" + base64(nonce ‖ AES-GCM(value, associated data = key id))

where the key is the data key of the row's subject (the registry's subject path: "user:<id>",
else the guest's email blind index: "guest:<index>"), kept in the key store
(privacy.protection.keystore), never in this database. Values without the prefix are the
shop-wide Fernet values of django-cryptography and keep opening with the key ring, so old
rows, other models and `rotate_encryption_key` work as before.

Invariants:
- Reading a value whose key was destroyed gives ERASED, whose key store is unreachable gives
  UNAVAILABLE: a str placeholder, never an exception. The placeholder keeps the stored
  ciphertext, so saving the row again (bulk_update, rotation) writes that ciphertext back
  unchanged instead of the placeholder.
- A value read under a person's key is written back under a person's key: the one of the row's
  subject at save(), or its own when saved without save() (bulk_update).
- When the key store cannot be reached, writing falls back to the shop-wide key (logged):
  the shop keeps taking orders; that value then reaches backups like before this change.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save

from privacy.protection import keystore
from privacy.protection.crypto import encrypted_fields
from privacy.registry import declarations as registry

log = logging.getLogger(__name__)

PREFIX = b"pk1:"
ERASED = "[erased]"
UNAVAILABLE = "[temporarily unavailable]"
# Where a person's key seals the fields; every other encrypted field stays on the shop-wide key.
# The rule: a model goes here when erasure deletes its rows or anonymises every encrypted field of
# them (the registry's erase is Delete or Anonymise), so nothing of it must be read once the key
# is gone, and a backup's copy must not open either:
#   accounts, addresses, orders, payments (card brand, last four), returns (the reason),
#   conversations, messages, attachments (their names; their files too, see storage.py),
#   marketing subscriptions, incident notices to a person (AffectedPerson), privacy requests
#   (requester's email, message, reply, jurisdiction: erasure blanks them; what is kept as proof,
#   kind, status and dates, is not encrypted, and the receipt and the last email read the
#   address before the erasure runs).
# Shop-wide on purpose:
#   privacy.LegalHold: its reason is Keep (an investigation's details must stay readable for as
#     long as the claim can be brought, after the person is erased);
#   privacy.AccessLogEntry.reason and privacy.Incident: staff's own words about their work and
#     the incident register, not one person's data, kept as legal records.
PERSON_KEY_MODELS = (
    "shop.User", "shop.Address", "orders.Order", "orders.Payment", "orders.ReturnRequest",
    "orders.SupportThread", "orders.SupportMessage", "orders.Attachment",
    "privacy.MarketingSubscriber", "privacy.AffectedPerson", "privacy.PrivacyRequest",
)


class Sealed(str):
    """A value that belongs under a person's data key (`key_id`)."""

    key_id: str = ""

    @classmethod
    def of(cls, value: str, key_id: str) -> Sealed:
        sealed = cls(value)
        sealed.key_id = key_id
        return sealed


class Unreadable(str):
    """The placeholder shown for a value that cannot be opened; keeps what was stored."""

    ciphertext: bytes = b""

    @classmethod
    def of(cls, text: str, ciphertext: bytes) -> Unreadable:
        value = cls(text)
        value.ciphertext = ciphertext
        return value


def under_same_key(before, after):
    """A value derived from `before` (a shortened postcode) stays under the same person's key, so a
    write that skips pre_save (bulk_update) does not move it to the shop-wide key."""
    if isinstance(before, Sealed) and before.key_id and isinstance(after, str) and not isinstance(after, Sealed):
        return Sealed.of(after, before.key_id)
    return after


def is_sealed(raw: bytes) -> bool:
    return bytes(raw[:4]) == PREFIX


def key_id_of(raw: bytes) -> str:
    return bytes(raw).split(b":", 2)[1].decode()


def seal(value: str, *, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    body = AESGCM(key).encrypt(nonce, value.encode(), key_id.encode())
    return PREFIX + key_id.encode() + b":" + base64.urlsafe_b64encode(nonce + body)


def unseal(raw: bytes) -> str:
    """The value, or a placeholder (never raises)."""
    raw = bytes(raw)
    try:
        _, key_id, body = raw.split(b":", 2)
        key_id_text = key_id.decode()
        key = keystore.data_key(key_id_text)
    except keystore.KeyStoreUnavailable:
        return Unreadable.of(UNAVAILABLE, raw)
    except ValueError:
        return Unreadable.of(ERASED, raw)
    if key is None:
        return Unreadable.of(ERASED, raw)
    try:
        blob = base64.urlsafe_b64decode(body)
        return Sealed.of(AESGCM(key).decrypt(blob[:12], blob[12:], key_id).decode(), key_id_text)
    except (InvalidTag, ValueError):
        return Unreadable.of(ERASED, raw)


def _walk(instance, path: str):
    obj, parts = instance, path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return getattr(obj, obj._meta.get_field(parts[-1]).attname, None)


def subject_of(instance) -> str | None:
    """The key store's name for the person a row belongs to, from the registry; None if unknown."""
    entry = registry.entry_for(type(instance))
    if entry is None:
        return None
    if entry.subject == "self":
        return f"user:{instance.pk}" if instance.pk is not None else None
    if entry.subject:
        user_id = _walk(instance, entry.subject)
        if user_id:
            return f"user:{user_id}"
    if entry.guest_index:
        index = _walk(instance, entry.guest_index)
        if index:
            return f"guest:{index}"
    return None


def key_for(instance) -> tuple[str, bytes] | None:
    subject, pending = subject_of(instance), False
    if subject is None and instance.pk is None and getattr(registry.entry_for(type(instance)), "subject", "") == "self":
        # A new account has no id yet: its key takes a provisional name, renamed after the insert.
        subject = instance.__dict__.get("_sealing_pending") or f"pending:{secrets.token_urlsafe(12)}"
        pending = True
    if subject is None:
        return None
    try:
        found = keystore.key_for_subject(subject)
    except keystore.KeyStoreUnavailable:
        log.warning("key store unavailable: a %s value is sealed under the shop-wide key", instance._meta.label)
        return None
    if pending:
        instance.__dict__["_sealing_pending"] = subject
    return found


def _install(field) -> None:
    cls = type(field)

    def pre_save(instance, add):
        value = cls.pre_save(field, instance, add)
        if not isinstance(value, str) or isinstance(value, Unreadable):
            return value
        if value in (ERASED, UNAVAILABLE) and instance.pk is not None:
            # A placeholder sent back as text (a form showed it while the key store was down):
            # what is stored stays, rather than the placeholder replacing the person's value.
            stored = type(instance)._base_manager.filter(pk=instance.pk).values_list(field.attname, flat=True).first()
            if stored is not None:
                return stored
        found = key_for(instance)
        return Sealed.of(value, found[0]) if found else str(value)

    def dump(value):
        if isinstance(value, Unreadable) and value.ciphertext:
            return value.ciphertext
        if isinstance(value, Sealed) and value.key_id:
            try:
                key = keystore.data_key(value.key_id)
            except keystore.KeyStoreUnavailable:
                key = None
            if key is not None:
                return seal(str(value), key_id=value.key_id, key=key)
            value = str(value)
        return cls._dump(field, value)

    def load(raw):
        if is_sealed(raw):
            return unseal(raw)
        return cls._load(field, raw)

    field.pre_save, field._dump, field._load = pre_save, dump, load


def _rename_pending(sender, instance, **kwargs) -> None:
    pending = instance.__dict__.pop("_sealing_pending", None)
    if pending and instance.pk is not None:
        try:
            keystore.rename_subject(old=pending, new=f"user:{instance.pk}")
        except keystore.KeyStoreUnavailable:
            log.error("key store unavailable: account %s keeps a provisionally named data key", instance.pk)


def install_person_keys() -> None:
    """At start-up, after install_key_ring: the fields of PERSON_KEY_MODELS seal per person."""
    for label in PERSON_KEY_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for field in encrypted_fields(model):
            _install(field)
        post_save.connect(_rename_pending, sender=model, dispatch_uid=f"sealing.pending.{label}")


def destroy_keys_on_commit(*, user, emails: set[str], found: list, held: bool = False) -> set[str]:
    """Erasure's last step (P13): once the rows are anonymised and committed, destroy the data keys
    of this person — the account's, and the guest keys of every email address they used or whose
    orders joined their account (read from the rows found, before they are anonymised) — and leave
    tombstones. Called inside erase_subject's transaction; returns the subjects it will destroy.
    While a legal hold keeps some of the rows, no key goes: the held rows must stay readable, and
    the daily key sweep destroys them once the hold has ended and the rows are anonymised."""
    if held:
        return set()
    from privacy.protection.crypto import email_index

    subjects = {f"guest:{email_index(e)}" for e in emails if e}
    if user is not None:
        subjects.add(f"user:{user.pk}")
    for entry, pks in found:
        # Multi-hop paths too (a payment's order__email_index): a guest's payment, return or
        # attachment is sealed under the key its order or conversation named when it was written.
        if entry.guest_index and pks:
            for start in range(0, len(pks), 5000):
                values = entry.model._base_manager.filter(pk__in=pks[start:start + 5000]) \
                    .values_list(entry.guest_index, flat=True).distinct()
                subjects |= {f"guest:{index}" for index in values if index}

    def destroy() -> None:
        # The erasure has committed; a key store out of reach now must not undo it or fail the
        # request. The key outlives its rows only until the daily key sweep (privacy.keys.sweep),
        # which destroys the key of every account or guest no row refers to any more.
        try:
            keystore.destroy_subjects(subjects)
        except (keystore.KeyStoreUnavailable, DatabaseError):
            log.error("key store unavailable: %d data key(s) of an erasure wait for the daily key sweep",
                      len(subjects))

    transaction.on_commit(destroy)
    return subjects
