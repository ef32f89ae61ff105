"""Is this person's processing restricted (GDPR Art. 18)? While it is, every consent-gated
purpose is off (privacy.consent.ledger asks here). The consent gate asks on every page, so
the answer is remembered per user object (privacy.protection.memo); privacy.rights.restriction starts and lifts
restrictions and keeps the answer current through remember()."""
from __future__ import annotations

from privacy.models import Restriction
from privacy.protection.memo import PerObjectCache

_restricted: PerObjectCache[bool] = PerObjectCache()


def remember(user, restricted: bool) -> None:
    """Called by privacy.rights.restriction when it starts or lifts a restriction."""
    _restricted.set(user, restricted)


def user_is_restricted(user) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    cached = _restricted.get(user)
    if cached is None:
        cached = Restriction.objects.filter(user=user, lifted_at__isnull=True).exists()
        _restricted.set(user, cached)
    return cached
