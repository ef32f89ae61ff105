"""Restriction of processing: while active, consent-gated purposes are off (see consent.allowed)."""
from __future__ import annotations

import weakref

from django.db import transaction
from django.utils import timezone

from privacy.models import Restriction


class _PerUserObjectCache:
    """The answer for one user object: request.user lives for one request, so the question costs
    one query per request however often consent asks it. Keyed by the object itself (not by pk):
    another request's user object asks the database again."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[weakref.ref, bool]] = {}

    def get(self, user) -> bool | None:
        found = self._values.get(id(user))
        return found[1] if found is not None and found[0]() is user else None

    def set(self, user, value: bool) -> None:
        key = id(user)
        if key not in self._values:
            weakref.finalize(user, self._values.pop, key, None)
        self._values[key] = (weakref.ref(user), value)


_restricted = _PerUserObjectCache()


def user_is_restricted(user) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    cached = _restricted.get(user)
    if cached is None:
        cached = Restriction.objects.filter(user=user, lifted_at__isnull=True).exists()
        _restricted.set(user, cached)
    return cached


user_is_restricted_or_objecting = user_is_restricted


@transaction.atomic
def restriction_start(*, user) -> Restriction:
    existing = Restriction.objects.filter(user=user, lifted_at__isnull=True).first()
    _restricted.set(user, True)
    return existing or Restriction.objects.create(user=user)


@transaction.atomic
def restriction_lift(*, user) -> int:
    _restricted.set(user, False)
    return Restriction.objects.filter(user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
