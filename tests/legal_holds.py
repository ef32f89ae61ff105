"""Placing legal holds in tests, the way staff and the dispute webhook do (through the service)."""
from datetime import timedelta

from django.utils import timezone

from privacy.models import LegalHold
from privacy.retention.legal_holds import HoldTerms, legal_hold_place


def hold_terms(days: int = 365, kind: str = LegalHold.Kind.LEGAL_CLAIM) -> HoldTerms:
    return HoldTerms(kind=kind, reason="Claim 2041 by a competitor: keep the invoice trail",
                     legal_basis="Establishing and defending legal claims",
                     expires_at=timezone.now() + timedelta(days=days))


def hold_on(*, order=None, user=None, days: int = 365, by=None, **kw) -> LegalHold:
    return legal_hold_place(terms=hold_terms(days, **kw), placed_by=by, user=user,
                            order_reference=order.reference if order is not None else "")
