"""Personal-data breaches and the people they affect."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from privacy.protection.crypto import encrypted


class Incident(models.Model):
    """A personal-data breach: what happened, what data, whom it affects, the 72-hour clock for
    the regulator, and the notification of affected people (P22)."""

    class Severity(models.TextChoices):
        LOW = "low", "Low: unlikely to harm anyone"
        HIGH = "high", "High: likely to harm people — tell them"
        CRITICAL = "critical", "Critical"

    title = models.CharField(max_length=160)
    detected_at = models.DateTimeField(default=timezone.now)
    description = encrypted(models.TextField(help_text="What happened, in plain words."))
    categories = models.JSONField(default=list, help_text="Registry categories of the data involved.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    remedial_steps = encrypted(models.TextField(blank=True))
    advice = encrypted(models.TextField(blank=True, help_text="What affected people should do (goes in the email)."))
    regulator_notified_at = models.DateTimeField(null=True, blank=True)
    users_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def regulator_deadline(self):
        return self.detected_at + timedelta(hours=72)


class AffectedPerson(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    email = encrypted(models.EmailField(blank=True))
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Once per person and incident; rows anonymised by erasure (blank index) are many.
        constraints = [models.UniqueConstraint(fields=["incident", "email_index"], name="affected_once",
                                               condition=~models.Q(email_index=""))]

    def __str__(self) -> str:
        return f"affected #{self.pk}"
