"""The privacy admin, one module per capability; importing this package registers every ModelAdmin."""
from privacy.admin import accounts, audit, consent, incidents, policy, processors, retention, rights

__all__ = ["accounts", "audit", "consent", "incidents", "policy", "processors", "retention", "rights"]
