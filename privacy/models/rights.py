"""Restrictions, rights requests and export jobs."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from privacy.protection.crypto import encrypted


class Restriction(models.Model):
    """A user asked us to restrict processing: their data is kept but not used for marketing,
    personalisation or analytics, and staff see a banner on their records (P17)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restrictions")
    started_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"restriction #{self.pk}"


class PrivacyRequest(models.Model):
    """A request to exercise a right, a question or a complaint, on a clock (P17, P18, P24)."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access / download"
        RECTIFICATION = "rectification", "Correction"
        ERASURE = "erasure", "Erasure"
        RESTRICTION = "restriction", "Restriction"
        OBJECTION = "objection", "Objection"
        COMPLAINT = "complaint", "Complaint"
        QUESTION = "question", "Question"
        GUARDIAN = "guardian", "Guardian request for a minor"
        PARTIAL_ERASURE = "partial_erasure", "Partial erasure"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_PROGRESS = "in_progress", "In progress"
        SCHEDULED = "scheduled", "Scheduled"
        DEFERRED = "deferred", "Deferred"
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused"
        CANCELLED = "cancelled", "Cancelled"

    class Verification(models.TextChoices):
        SESSION = "session", "Signed in to the account"
        PASSWORD = "password", "Signed in and re-entered the password"
        EMAIL_LINK = "email_link", "Confirmed a link sent to the email"
        STAFF = "staff", "Checked by staff"
        GUARDIAN_DOCUMENTS = "guardian_documents", "Guardian's documents checked by staff"
        NONE = "none", "Not verified yet"

    OPEN = (Status.RECEIVED, Status.IN_PROGRESS, Status.SCHEDULED, Status.DEFERRED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="privacy_requests")
    requester_email = encrypted(models.EmailField(blank=True))
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    message = encrypted(models.TextField(blank=True))
    verified_by = models.CharField(max_length=20, choices=Verification.choices, default=Verification.NONE)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField()
    extended_reason = models.CharField(max_length=300, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True)
    reply = encrypted(models.TextField(blank=True))
    scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    confirm_token = models.CharField(max_length=32, blank=True, db_index=True)
    # The clock per jurisdiction (P18, privacy.rights.clocks): where the person lives ("FR", "US-CA";
    # empty when unknown), which rule governs due_at (the answer date), when the request must be
    # acknowledged (a law's deadline; None where none applies) and was, and the latest date an
    # extension may reach under every applicable rule.
    jurisdiction = encrypted(models.CharField("country or region", max_length=6, blank=True))
    clock = models.CharField("governing rule", max_length=8, default="policy",
                             choices=[("policy", "Our policy"), ("gdpr", "GDPR"), ("ccpa", "CCPA/CPRA")])
    acknowledge_by = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answer_limit = models.DateTimeField("latest answer date with an extension", null=True, blank=True)
    # A partial erasure's kind of data ("addresses", "sessions"...): what the person asked to delete.
    scope = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["due_at"]
        permissions = [("handle_privacyrequest", "Can handle privacy requests (reply, extend, refuse, erase)")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def answer_by(self):
        """The answer's deadline under the governing rule (stored as due_at, which orders the queue)."""
        return self.due_at


class ExportJob(models.Model):
    """A "download my data" job: built by a Celery task into an encrypted file in the private
    folder, downloadable by its owner with a signed token for 7 days, then deleted."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="exports")
    request = models.ForeignKey(PrivacyRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    guest_index = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=80, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export #{self.pk}"


class ErasureReceipt(models.Model):
    """What one erasure did, for the person and for staff (P13, P16, P17): what was deleted (by
    kind, with counts), what is kept without their details (per field, why, until when), what a
    legal hold keeps, and which processors were told and what they answered. Counts, names of
    kinds and fields, reasons and dates only, never a value of the person: it outlives them.
    `token` opens it from the email's link until `link_expires_at`."""

    request = models.OneToOneField(PrivacyRequest, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="receipt")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    token = models.CharField(max_length=32, unique=True)
    link_expires_at = models.DateTimeField()
    body = models.JSONField(default=dict)
    processor_deletions = models.ManyToManyField("privacy.ProcessorDeletion", blank=True, related_name="receipts")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"erasure receipt #{self.pk}"
