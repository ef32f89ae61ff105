"""Legal holds: a payment dispute, a chargeback, a fraud investigation, a legal claim or a
regulator's order that obliges us to keep one person's records, or one order's, beyond the
usual period. A hold postpones erasure and retention for what it covers, and only that, until
it is lifted or expires. The reason (the investigation's details) is for staff; the person sees
what is held, on what legal basis and until when."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from privacy.protection.crypto import encrypted


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        return self.filter(lifted_at__isnull=True, expires_at__gt=now or timezone.now())


class LegalHold(models.Model):
    class Kind(models.TextChoices):
        PAYMENT_DISPUTE = "payment_dispute", "Payment dispute"
        CHARGEBACK = "chargeback", "Chargeback"
        FRAUD = "fraud_investigation", "Fraud investigation"
        LEGAL_CLAIM = "legal_claim", "Legal claim"
        REGULATOR = "regulator_order", "Regulator's order"

    class Target(models.TextChoices):
        PERSON = "person", "A person (all their records)"
        ORDER = "order", "One order (its payments and lines)"

    target = models.CharField(max_length=10, choices=Target.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="legal_holds", help_text="Whose records (an order's customer, if any).")
    # The held order's id: orders declares what an order hold covers (privacy never names its models).
    order_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    reference = models.CharField(max_length=40, blank=True, help_text="The order's reference, shown to the person.")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = encrypted(models.TextField(help_text="The investigation's details. Staff only; never shown to the person."))
    legal_basis = models.CharField(max_length=200, help_text="The law or obligation, shown to the person.")
    expires_at = models.DateTimeField(db_index=True)
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lift_reason = models.CharField(max_length=200, blank=True)
    # The person's erasure left these records alone; they are erased when the hold ends.
    erasure_waiting = models.BooleanField(default=False)
    source = models.CharField(max_length=100, blank=True, help_text="e.g. the payment provider's dispute id.")

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        permissions = [("manage_legalhold", "Can place, change and lift legal holds")]
        constraints = [
            # A person hold is placed on an account (place_hold and the admin form insist on one);
            # once it has ended, that person's erasure unlinks it (the registry keeps the row
            # "without the link to you"), so the row must be valid without the account.
            models.CheckConstraint(condition=Q(target="person", order_id__isnull=True)
                                   | Q(target="order", order_id__isnull=False), name="legalhold_target_named"),
        ]

    def __str__(self) -> str:
        return f"legal hold #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and self.expires_at > timezone.now()
