"""The privacy policy's versions, rendering, notices and views.

Public API for the other apps: current_policy (the version in force, for forms that record
which one a person agreed to); pending_acknowledgement_sql and remember_pending_acknowledgement
(the acknowledgement question asked in the same query as the signed-in user's row)."""
from .versions import current as current_policy
from .versions import pending_acknowledgement_sql, remember_pending_acknowledgement

__all__ = ["current_policy", "pending_acknowledgement_sql", "remember_pending_acknowledgement"]
