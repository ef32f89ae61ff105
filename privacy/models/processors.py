"""Outbound transfers to processors and the proof that a processor was told to delete."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Disclosure(models.Model):
    """One outbound transfer of personal data to a processor: which fields, to whom, when,
    for whose data, and the transfer's country and safeguard (P15, P23)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    processor = models.CharField(max_length=30, db_index=True)
    purpose = models.CharField(max_length=40)
    fields = models.JSONField(default=list)
    country = models.CharField(max_length=2)
    safeguard = models.CharField(max_length=120)
    subject_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="disclosures")
    guest_index = models.CharField(max_length=64, blank=True, db_index=True)
    reference = models.CharField(max_length=60, blank=True)  # e.g. the order reference

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.processor} {self.at:%Y-%m-%d}"


class ProcessorDeletion(models.Model):
    """Proof that a processor was told to stop holding a person's data (P16)."""

    processor = models.CharField(max_length=30)
    reference = models.CharField(max_length=100, blank=True)
    subject_user_id = models.PositiveBigIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.processor}: {self.outcome}"
