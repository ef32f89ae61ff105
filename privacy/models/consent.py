"""The consent ledger, marketing subscribers and the anonymous daily counts."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from privacy.protection.crypto import encrypted


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
    against_gpc = models.BooleanField(
        default=False, help_text="A grant the person confirmed a second time although their browser sent the Global "
                                 "Privacy Control signal; text_hash is then the hash of that confirmation's wording.")

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
