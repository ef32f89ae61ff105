"""Retention rules, holds and the purge.

Public API for the other apps: placing and lifting legal holds (a payment provider's dispute)."""
from .legal_holds import HoldError, dispute_terms, legal_hold_lift_source, legal_hold_place

__all__ = ["HoldError", "dispute_terms", "legal_hold_lift_source", "legal_hold_place"]
