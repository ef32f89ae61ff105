"""Cookies, the consent ledger, GPC, marketing, personalisation and anonymous counts.

Public API for the other apps: consent_allowed (may this purpose run for this visitor?) and
subscribe_request (a ticked newsletter box); user_consent_sql and remember_user_consent (a
signed-in user's ledger answer asked in the same query as their row)."""
from .forms import MarketingTickForm
from .ledger import allowed as consent_allowed
from .ledger import remember_user_consent, user_consent_sql
from .marketing import subscribe_request

__all__ = ["MarketingTickForm", "consent_allowed", "remember_user_consent", "subscribe_request", "user_consent_sql"]
