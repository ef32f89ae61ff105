"""Every privacy model by name, whichever capability module defines it (app label "privacy",
tables and migrations unchanged), so `from privacy.models import X` keeps working."""
from privacy.models.audit import (
                                   AccessLogEntry,
                                   AccessLogSubject,
                                   AppendOnlyQuerySet,
                                   AuditChainHead,
)
from privacy.models.consent import (
                                   ConsentRecord,
                                   ConsentText,
                                   DailyPageViews,
                                   DailyProductViews,
                                   MarketingSubscriber,
)
from privacy.models.holds import LegalHold
from privacy.models.incidents import AffectedPerson, Incident
from privacy.models.keys import DataKey, Tombstone
from privacy.models.policy import (
                                   POLICY_VERSION_PATTERN,
                                   PolicyAcknowledgement,
                                   PolicyVersion,
                                   validate_policy_version,
)
from privacy.models.processors import Disclosure, ProcessorDeletion
from privacy.models.protection import KeyRotationProgress
from privacy.models.retention import PurgeLock, PurgePostponement, PurgeRun
from privacy.models.rights import ErasureReceipt, ExportJob, PrivacyRequest, Restriction

__all__ = [
    "AccessLogEntry", "AccessLogSubject", "AppendOnlyQuerySet", "AuditChainHead",
    "ConsentRecord", "ConsentText", "DailyPageViews", "DailyProductViews", "MarketingSubscriber",
    "AffectedPerson", "Incident",
    "DataKey", "Tombstone",
    "LegalHold",
    "POLICY_VERSION_PATTERN", "PolicyAcknowledgement", "PolicyVersion", "validate_policy_version",
    "Disclosure", "ProcessorDeletion",
    "KeyRotationProgress",
    "PurgeLock", "PurgePostponement", "PurgeRun",
    "ErasureReceipt", "ExportJob", "PrivacyRequest", "Restriction",
]
