"""The privacy policy's versions, rendering, notices and views.

Public API for the other apps: current_policy (the version in force, for forms that record
which one a person agreed to)."""
from .versions import current as current_policy

__all__ = ["current_policy"]
