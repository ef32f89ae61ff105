"""The rights of the people whose data we hold: dashboard, export, erasure, restriction,
objection, and requests on their clocks.

Public API for the other apps: what an erasure hook needs to tell a processor
(STRIPE_PENDING, delete_at_processor)."""
from .erasure import STRIPE_PENDING, delete_at_processor

__all__ = ["STRIPE_PENDING", "delete_at_processor"]
