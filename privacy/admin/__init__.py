"""The privacy admin, one module per capability; importing this package registers every ModelAdmin.

Public API for the other apps: PersonalDataAdmin, the base of every admin that shows personal data."""
from privacy.admin import (
           accounts,
           audit,
           consent,
           holds,
           incidents,
           policy,
           processors,
           retention,
           rights,
)
from privacy.admin.mixins import PersonalDataAdmin

__all__ = ["PersonalDataAdmin", "accounts", "audit", "consent", "holds", "incidents", "policy", "processors", "retention",
           "rights"]
