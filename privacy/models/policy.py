"""Versions of the privacy policy and who read which."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from config.converters import POLICY_VERSION_PATTERN

# A version name is a URL path segment (/privacy/versions/<version>/, config.converters) shown on
# every page while it is announced: letters, digits, ".", "-", "_", starting with a letter or
# digit (so never "." or ".."). A "/" in it made every storefront page fail to render.
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
