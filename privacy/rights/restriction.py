"""Restriction of processing: while active, consent-gated purposes are off (see consent.allowed)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from privacy.consent.paused import remember, user_is_restricted
from privacy.models import Restriction

__all__ = ["restriction_lift", "restriction_start", "user_is_restricted"]


@transaction.atomic
def restriction_start(*, user) -> Restriction:
    existing = Restriction.objects.filter(user=user, lifted_at__isnull=True).first()
    remember(user, True)
    return existing or Restriction.objects.create(user=user)


@transaction.atomic
def restriction_lift(*, user) -> int:
    remember(user, False)
    return Restriction.objects.filter(user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
