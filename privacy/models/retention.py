"""Runs of the retention purge, what it postponed, and its lock."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class PurgeRun(models.Model):
    """One run of the retention purge: per rule, how many records were deleted, anonymised or
    postponed (and why), how long it took, and errors — never any value."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=12, default="running")  # running, finished, failed, skipped
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"purge {self.started_at:%Y-%m-%d %H:%M}"


class PurgePostponement(models.Model):
    """A record the purge would have erased but kept, and why (restriction, open return, ...)."""

    run = models.ForeignKey(PurgeRun, on_delete=models.CASCADE, related_name="postponements")
    rule = models.CharField(max_length=60)
    model_label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=40)
    reason = models.CharField(max_length=60)

    def __str__(self) -> str:
        return f"{self.model_label} #{self.object_id}: {self.reason}"


class PurgeLock(models.Model):
    """A lease so that two purges started at once do not both run."""

    holder = models.CharField(max_length=40, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "purge lock"
