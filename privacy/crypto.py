"""Encryption at rest and blind indexes.

Personal fields are stored encrypted (django-cryptography-5, key CRYPTOGRAPHY_KEY from the
environment or var/keys/, never the database). Where an encrypted value must be found
again (a guest's email), a keyed hash of its normalised form, the blind index, is stored
beside it under a separate key (BLIND_INDEX_KEY), so lookups never decrypt a table.
"""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django_cryptography.fields import encrypt as _encrypt


def encrypted(field: models.Field) -> models.Field:
    """Wrap a model field so its value is encrypted in the database."""
    return _encrypt(field)


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed SHA-256 of a normalised value: equal inputs give equal indexes, and without
    BLIND_INDEX_KEY the index reveals nothing (no dictionary attack on emails)."""
    key = f"{settings.BLIND_INDEX_KEY}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def email_index(value: str) -> str:
    return blind_index(normalise_email(value), purpose="email")
