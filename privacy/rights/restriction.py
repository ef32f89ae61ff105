"""Restriction of processing: while active, consent-gated purposes are off (see consent.allowed)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from privacy.models import Restriction


def user_is_restricted(user) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    cached = getattr(user, "_restricted_cache", None)
    if cached is None:
        cached = Restriction.objects.filter(user=user, lifted_at__isnull=True).exists()
        user._restricted_cache = cached
    return cached


user_is_restricted_or_objecting = user_is_restricted


@transaction.atomic
def restriction_start(*, user) -> Restriction:
    existing = Restriction.objects.filter(user=user, lifted_at__isnull=True).first()
    user._restricted_cache = True
    return existing or Restriction.objects.create(user=user)


@transaction.atomic
def restriction_lift(*, user) -> int:
    user._restricted_cache = False
    return Restriction.objects.filter(user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
