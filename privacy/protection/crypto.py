"""Encryption at rest and blind indexes.

Personal fields are stored encrypted with django-cryptography-5 (Fernet: AES-CBC + HMAC),
under CRYPTOGRAPHY_KEY from the environment or var/keys/, never the database.

Key rotation: the library binds one key to each field when models load (and signs with
SECRET_KEY). At start-up
(PrivacyConfig.ready) every encrypted field gets a KeyRing instead, which encrypts with the
current key and decrypts with the current key or any of CRYPTOGRAPHY_OLD_KEYS, so values
stay readable while `rotate_encryption_key` re-encrypts them in batches.

Where an encrypted value must be found again (a guest's email), a keyed hash of its
normalised form, the blind index, is stored beside it under a separate key (BLIND_INDEX_KEY),
so lookups never decrypt a table.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.encoding import force_bytes
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.fields import EncryptedMixin
from django_cryptography.fields import encrypt as _encrypt
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

from privacy.protection.emailaddr import canonical_email


def encrypted(field: models.Field) -> models.Field:
    """Wrap a model field so its value is encrypted in the database."""
    return _encrypt(field)


@lru_cache(maxsize=32)
def _derive(raw_key: str, salt: bytes) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=30000)
    return kdf.derive(force_bytes(raw_key))


@lru_cache(maxsize=16)
def _fernet(raw_key: str) -> FernetBytes:
    # The library signs its ciphertexts with SECRET_KEY; we derive both the AES key and the
    # HMAC key from CRYPTOGRAPHY_KEY instead, so rotating SECRET_KEY never loses data.
    return FernetBytes(_derive(raw_key, b"shop-aes"), signer=FernetSigner(key=_derive(raw_key, b"shop-hmac")))


def key_fingerprint(raw_key: str) -> str:
    return hashlib.sha256(_derive(raw_key, b"shop-fingerprint")).hexdigest()[:12]


class KeyRing:
    """Encrypt with the current key; decrypt with the current or any previous key.
    Reads the settings at each call, so a key change needs no model reload."""

    def encrypt(self, data: bytes) -> bytes:
        return _fernet(settings.CRYPTOGRAPHY_KEY).encrypt(data)

    def decrypt(self, data: bytes, ttl: int | None = None) -> bytes:
        keys = [settings.CRYPTOGRAPHY_KEY, *settings.CRYPTOGRAPHY_OLD_KEYS]
        for i, key in enumerate(keys):
            try:
                return _fernet(key).decrypt(data, ttl)
            except (InvalidToken, BadSignature):
                if i == len(keys) - 1:
                    raise
        raise InvalidToken  # pragma: no cover - unreachable with at least one key

    def current_key_opened(self, data: bytes) -> bool:
        try:
            _fernet(settings.CRYPTOGRAPHY_KEY).decrypt(data, None)
            return True
        except (InvalidToken, BadSignature):
            return False


KEY_RING = KeyRing()


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]


def install_key_ring() -> None:
    for model in apps.get_models():
        for f in encrypted_fields(model):
            f._fernet = KEY_RING


def normalise_email(value: str) -> str:
    """The canonical form of an email (privacy.protection.emailaddr), which the blind index hashes. A
    value with no canonical form can only come from a row stored before it existed (every
    form refuses it now): it keeps its old stripped, lower-cased form, so it still finds
    itself and no lookup fails."""
    try:
        return canonical_email(value or "")
    except ValidationError:
        return (value or "").strip().lower()


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed SHA-256 of a normalised value: equal inputs give equal indexes, and without
    BLIND_INDEX_KEY the index reveals nothing (no dictionary attack on emails)."""
    key = f"{settings.BLIND_INDEX_KEY}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def email_index(value: str) -> str:
    return blind_index(normalise_email(value), purpose="email")
