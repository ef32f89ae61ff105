"""Cookies, the consent ledger, GPC, marketing, personalisation and anonymous counts.

Public API for the other apps: consent_allowed (may this purpose run for this visitor?) and
subscribe_request (a ticked newsletter box)."""
from .forms import MarketingTickForm
from .ledger import allowed as consent_allowed
from .marketing import subscribe_request

__all__ = ["MarketingTickForm", "consent_allowed", "subscribe_request"]
