"""The key store's rows (P10, P13). They live in the "keys" database alias, never the shop's
database (privacy.protection.keystore.KeyStoreRouter), so a backup of the shop's database
holds ciphertexts without the keys that open them."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class DataKey(models.Model):
    """One person's data key, wrapped (AES-GCM) under a key derived from CRYPTOGRAPHY_KEY.
    `subject` is "user:<id>" or "guest:<blind index of the email>": nothing readable."""

    subject = models.CharField(max_length=80, unique=True)
    key_id = models.CharField(max_length=32, unique=True)
    wrapped = models.BinaryField()
    kek = models.CharField(max_length=12, help_text="Fingerprint of the master key that wraps it.")
    created_at = models.DateTimeField(default=timezone.now)
    # Last handed out for writing (at most hourly): the sweep leaves keys used in the last day alone.
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Data key {self.key_id}"


class Tombstone(models.Model):
    """A destroyed data key: whose (reference only) and when. privacy_replay_erasures applies
    these to a restored copy of the shop's database."""

    subject = models.CharField(max_length=80, db_index=True)
    erased_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Tombstone {self.pk}"
