"""Privacy records: the tamper-evident access log and the disclosure (transfer) log."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
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


class AccessLogSubject(models.Model):
    """Whose records an access-log entry touched: lets a user see when staff accessed their
    data (the entry's hash already covers the same ids)."""

    entry = models.ForeignKey(AccessLogEntry, on_delete=models.DO_NOTHING, related_name="subjects")
    user_id = models.PositiveBigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"entry #{self.entry_id} → user #{self.user_id}"


# --- consent -----------------------------------------------------------------------------

class ConsentText(models.Model):
    """The exact wording a person agreed to, kept by its hash: proof of what was asked."""

    hash = models.CharField(max_length=16, unique=True)
    purpose = models.CharField(max_length=30)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.purpose} {self.hash}"


class ConsentRecord(models.Model):
    """One grant or withdrawal. Append-only; the current state is the newest record per
    subject and purpose. The subject is a user, or an anonymous consent id (a random value
    in the visitor's consent cookie), or both once a visitor signs in."""

    class Purpose(models.TextChoices):
        PREFERENCES = "cookies_preferences", "Preference cookies"
        ANALYTICS = "cookies_analytics", "Anonymous statistics"
        MARKETING_COOKIES = "cookies_marketing", "Marketing cookies"
        MARKETING_EMAIL = "marketing_email", "Marketing emails"
        PERSONALISATION = "personalisation", "Recommendations from your browsing"

    class Channel(models.TextChoices):
        BANNER = "banner", "Cookie banner"
        SETTINGS = "settings", "Cookie settings page"
        GPC = "gpc", "Global Privacy Control signal"
        SIGNUP = "signup", "Sign-up form"
        CHECKOUT = "checkout", "Checkout form"
        EMAIL_LINK = "email_link", "Link in an email"
        DASHBOARD = "dashboard", "Privacy dashboard"
        SYSTEM = "system", "The shop (restriction, erasure)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="consents")
    consent_id = models.CharField(max_length=32, blank=True, db_index=True)
    subscriber = models.ForeignKey("privacy.MarketingSubscriber", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="consents")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    granted = models.BooleanField()
    text_hash = models.CharField(max_length=16)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "purpose", "-at"]), models.Index(fields=["consent_id", "purpose", "-at"])]

    def __str__(self) -> str:
        return f"{'grant' if self.granted else 'withdraw'} {self.purpose}"


class MarketingSubscriber(models.Model):
    """Someone who asked for marketing email: a user, or a guest who ticked the box at checkout.
    Double opt-in: nothing is sent before `confirmed_at`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="marketing")
    email = encrypted(models.EmailField())
    email_index = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=32, unique=True)
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Subscriber #{self.pk}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


# --- the privacy policy --------------------------------------------------------------

# A version name is a URL path segment (/privacy/versions/<version>/, config.converters) shown on
# every page while it is announced: letters, digits, ".", "-", "_", starting with a letter or
# digit (so never "." or ".."). A "/" in it made every storefront page fail to render.
POLICY_VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"
validate_policy_version = RegexValidator(
    rf"\A{POLICY_VERSION_PATTERN}\Z",
    "Use letters, digits, dots, hyphens and underscores only, starting with a letter or digit "
    "(for example 2.1 or 2026-spring); at most 20 characters.", code="invalid_version")


class PolicyVersion(models.Model):
    """A version of the privacy policy, written in Markdown by staff. Published versions are
    immutable; the current one is the newest whose effective date has come."""

    version = models.CharField(max_length=20, unique=True, validators=[validate_policy_version])
    title = models.CharField(max_length=120, default="Privacy policy")
    body = models.TextField(help_text="Markdown. Sections generated from the code are added below it.")
    summary = models.TextField(blank=True, help_text="What changes, in plain words.")
    material = models.BooleanField(default=False, help_text="Material changes are emailed to registered users.")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-effective_at", "-pk"]

    def __str__(self) -> str:
        return f"Privacy policy {self.version}"


class PolicyAcknowledgement(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_acks")
    policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "policy"], name="policy_ack_once")]

    def __str__(self) -> str:
        return f"user #{self.user_id} read {self.policy_id}"


# --- anonymous analytics ---------------------------------------------------------------

class DailyPageViews(models.Model):
    """Page views per day and page: a count, nothing about who (P9)."""

    day = models.DateField()
    path = models.CharField(max_length=100)
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "path"], name="daily_page_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.path}: {self.views}"


class DailyProductViews(models.Model):
    day = models.DateField()
    product = models.ForeignKey("shop.Product", on_delete=models.CASCADE, related_name="+")
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "product"], name="daily_product_once")]

    def __str__(self) -> str:
        return f"{self.day} #{self.product_id}: {self.views}"


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


# --- rights requests -----------------------------------------------------------------

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

    class Meta:
        ordering = ["due_at"]
        permissions = [("handle_privacyrequest", "Can handle privacy requests (reply, extend, refuse, erase)")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


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


# --- retention -------------------------------------------------------------------------

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


# --- breach incidents -------------------------------------------------------------------------

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
        from datetime import timedelta

        return self.detected_at + timedelta(hours=72)


class AffectedPerson(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    email = encrypted(models.EmailField(blank=True))
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "email_index"], name="affected_once")]

    def __str__(self) -> str:
        return f"affected #{self.pk}"
