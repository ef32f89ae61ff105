"""The hash-chained, append-only access log, its verification and its middleware.

Public API for the other apps: audit_log (record that staff saw or exported personal data)."""
from .log import audit_log

__all__ = ["audit_log"]
