"""The tamper-evident access log: entries, whose records they touched, and the chain head."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from privacy.protection.crypto import encrypted


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The access log is append-only.")

    def delete(self):
        raise PermissionError("The access log is append-only; old entries leave only through retention.")

    def _purge(self):  # used by the retention rule alone (privacy.retention.purge)
        return super().delete()


class AccessLogEntry(models.Model):
    """One staff access to personal data: who, when, what record, which fields, why.
    Never the values. Each entry's hash covers the previous entry's hash (a chain), so an
    edited, inserted or deleted row is detected by `manage.py audit_verify`."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed a record"
        LIST = "list", "Listed records"
        SEARCH = "search", "Searched records"
        REVEAL = "reveal", "Revealed masked values"
        CHANGE = "change", "Changed a record"
        EXPORT = "export", "Exported data"
        DELETE = "delete", "Deleted data"
        ERASE = "erase", "Erased a person's data"
        HOLD_PLACE = "hold", "Placed a legal hold"
        HOLD_CHANGE = "hold_edit", "Changed a legal hold"
        HOLD_LIFT = "hold_lift", "Lifted a legal hold"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_id_snapshot = models.PositiveBigIntegerField(null=True, blank=True)
    actor_role = models.CharField(max_length=60, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    model_label = models.CharField(max_length=100)
    object_ids = models.JSONField(default=list)
    fields = models.JSONField(default=list)
    subject_user_ids = models.JSONField(default=list)
    reason = encrypted(models.CharField(max_length=300, blank=True))
    request_id = models.CharField(max_length=32, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        permissions = [("reveal_personal_data", "Can reveal masked personal data (with a reason)")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.model_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_append", False):
            raise PermissionError("Access log entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Access log entries cannot be deleted.")


class AuditChainHead(models.Model):
    """A single row holding the newest hash; locking it serialises appends to the chain.
    `anchor_*` records where the chain starts after old entries were purged by retention."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    anchor_id = models.PositiveBigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return "audit chain head"



class AccessLogSubject(models.Model):
    """Whose records an access-log entry touched: lets a user see when staff accessed their
    data (the entry's hash already covers the same ids)."""

    entry = models.ForeignKey(AccessLogEntry, on_delete=models.DO_NOTHING, related_name="subjects")
    user_id = models.PositiveBigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"entry #{self.entry_id} → user #{self.user_id}"
