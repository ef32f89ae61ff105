"""Key rotation bookkeeping."""
from __future__ import annotations

from django.db import models


class KeyRotationProgress(models.Model):
    """Where `rotate_encryption_key` got to, per model and target key: a crash resumes here."""

    model_label = models.CharField(max_length=100)
    key_fingerprint = models.CharField(max_length=12)
    last_pk = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_label", "key_fingerprint"], name="rotation_once")]

    def __str__(self) -> str:
        return f"{self.model_label} → {self.key_fingerprint}"
