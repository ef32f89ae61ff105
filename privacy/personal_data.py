"""Declarations for the models of Django and the libraries we use (our own apps declare
theirs in their own personal_data.py)."""
from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    PeriodicTasks,
    SolarSchedule,
)

from privacy.models import (
    AccessLogEntry,
    AccessLogSubject,
    AffectedPerson,
    AuditChainHead,
    ConsentRecord,
    ConsentText,
    DailyPageViews,
    DailyProductViews,
    DataKey,
    Disclosure,
    ErasureReceipt,
    ExportJob,
    Incident,
    KeyRotationProgress,
    LegalHold,
    MarketingSubscriber,
    PolicyAcknowledgement,
    PolicyVersion,
    PrivacyRequest,
    ProcessorDeletion,
    PurgeLock,
    PurgePostponement,
    PurgeRun,
    Restriction,
    Tombstone,
)
from privacy.protection.masking import mask_email, mask_text, show
from privacy.registry import (
    Anonymise,
    DataCategory,
    Decay,
    DecayTrigger,
    Delete,
    Keep,
    LegalBasis,
    Personal,
    ProcessingPurpose,
    Retention,
    Truncate,
    network_prefix,
    not_personal,
    register,
)
from privacy.rights import partial  # noqa: F401  (declares the partial erasures privacy owns)
from privacy.rights.export import export_file_delete

register(
    EmailAddress, subject="user", purpose=ProcessingPurpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={"email": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_email)},
    recipients=("hosting",), description="Your sign-in email address and whether you verified it.",
)
register(
    EmailConfirmation, subject="email_address__user", purpose=ProcessingPurpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={"key": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                            plaintext_reason="A one-time random token, looked up when the link is opened.")},
    description="Pending email verification links.",
)
register(
    Authenticator, subject="user", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.CONTRACT,
    fields={"data": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                             plaintext_reason="Authenticator secrets; the secret inside is encrypted by "
                                              "our MFA adapter.")},
    plain=["type"], description="Your two-factor authentication devices.",
)
register(
    Session, subject="", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.CONTRACT,
    fields={"session_data": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                                     plaintext_reason="Signed session data: your cart id and sign-in.")},
    plain=["session_key"], description="Your sign-in sessions; they expire after two weeks.",
    retention=[Retention("sessions.expired", after="expire_date", keep_for=timedelta(0), then=Delete(),
                         description="Expired sessions are deleted")],
)
register(
    UserSession, subject="user", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
    fields={
        "ip": Personal(DataCategory.TECHNICAL, erase=Delete(), plaintext_reason="Truncated to its network (/24, /48)."),
        "user_agent": Personal(DataCategory.TECHNICAL, erase=Delete(),
                               plaintext_reason='Cut down to "browser on system".'),
        "data": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                         plaintext_reason="allauth's bookkeeping for the session list."),
    },
    plain=["session_key"],
    # The address is kept to its network from the start; it widens after a week and is gone after
    # a month (the column cannot be empty: the unspecified address 0.0.0.0 / :: stands for "none").
    decay=[Decay("network.sessions_ip_wider", fields=("ip",), after="last_seen_at", age=timedelta(days=7),
                 action=Truncate(network_prefix(16, 32), "shortened to a wider network (/16, /32)"),
                 trigger=DecayTrigger.LAST_SEEN, item="network address",
                 description="A session's network address is widened to /16 (IPv6 /32) a week after last use"),
           Decay("network.sessions_ip_dropped", fields=("ip",), after="last_seen_at", age=timedelta(days=30),
                 action=Truncate(network_prefix(0, 0), "dropped"),
                 trigger=DecayTrigger.LAST_SEEN, item="network address",
                 description="A session's network address is dropped 30 days after last use")],
    retention=[Retention("network.sessions", after="last_seen_at", keep_for=timedelta(days=90), then=Delete(),
                         description="Network and browser records of sessions are deleted after 90 days")],
    description="Where you are signed in (browser and network, coarsely), so you can sign out elsewhere.",
)
register(
    LogEntry, subject="user", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
    fields={}, plain=["object_id", "object_repr", "change_message"],
    description="Django's record of staff edits (staff members' own activity; object names hold no "
                "customer data).",
)
not_personal(Group, Permission, ContentType, reason="Django's permission framework.")
not_personal(ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks, SolarSchedule,
             reason="Celery beat's schedule; task arguments are never personal (ids only).")


register(
    AccessLogEntry, subject="", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={"reason": Personal(DataCategory.COMMUNICATIONS, erase=Keep("Part of the tamper-evident audit trail."),
                               export=False)},
    plain=["actor_role", "action", "model_label", "object_ids", "fields", "subject_user_ids", "request_id",
           "prev_hash", "hash"],
    # Purged by a dedicated rule (privacy.retention.purge) that keeps the hash chain verifiable.
    description="When staff looked at or changed personal data, and why (never the values).",
)
not_personal(AuditChainHead, reason="The newest hash of the access log.")
register(
    Disclosure, subject="subject_user", guest_index="guest_index", purpose=ProcessingPurpose.LEGAL,
    legal_basis=LegalBasis.LEGAL_OBLIGATION, category=DataCategory.TECHNICAL,
    fields={"guest_index": Personal(DataCategory.TECHNICAL, erase=Anonymise(), export=False,
                                    plaintext_reason="Blind index of a guest's email.")},
    plain=["processor", "purpose", "fields", "country", "safeguard", "reference"],
    keep_rows="The record of transfers must show they happened; it no longer leads to you.",
    retention=[Retention("disclosures.old", after="at", keep_for=timedelta(days=3 * 365), then=Delete(),
                         description="The transfer log is kept 3 years")],
    description="Which of your data went to which processor, when, and under which safeguard.",
)


register(AccessLogSubject, subject="", purpose=ProcessingPurpose.SECURITY, legal_basis=LegalBasis.LEGAL_OBLIGATION,
         fields={}, category=DataCategory.TECHNICAL, description="Which people an access-log entry concerned.")

not_personal(KeyRotationProgress, reason="Progress counters of a key rotation.")
not_personal(DataKey, Tombstone, reason="The key store (its own database, never the shop's backups): wrapped keys and tombstones named by user id or email blind index, nothing readable.")


register(
    ConsentRecord, subject="user", purpose=ProcessingPurpose.LEGAL, legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={"consent_id": Personal(DataCategory.TECHNICAL, erase=Anonymise(), mask=mask_text,
                                   plaintext_reason="A random id from the consent cookie; links a visitor's "
                                                    "choices without naming them.")},
    plain=["purpose", "text_hash", "channel", "against_gpc"], category=DataCategory.BEHAVIOURAL,
    keep_rows="Proof that we asked before using your data; nothing in it leads to you after erasure.",
    retention=[Retention("consents.unlinked", after="at", keep_for=timedelta(days=3 * 365), then=Delete(),
                         applies=Q(user__isnull=True),
                         description="Anonymous visitors' consent records are kept 3 years as proof")],
    description="Every consent you gave or withdrew, with the exact wording and when: our proof that we "
                "asked. After erasure the records stay without anything that links them to you.",
)
register(
    MarketingSubscriber, subject="user", guest_index="email_index", purpose=ProcessingPurpose.MARKETING,
    legal_basis=LegalBasis.CONSENT,
    fields={
        "email": Personal(DataCategory.CONTACT, erase=Anonymise(), mask=mask_email),
        "email_index": Personal(DataCategory.CONTACT, erase=Anonymise(), export=False,
                                plaintext_reason="Blind index, to find a subscription by email."),
        "token": Personal(DataCategory.TECHNICAL, erase=Anonymise(), export=False,
                          plaintext_reason="Random token in unsubscribe and confirmation links."),
    },
    recipients=("email",), description="Your marketing email subscription, if you asked for one.",
    retention=[
        Retention("marketing.unconfirmed", after="requested_at", keep_for=timedelta(days=30), then=Delete(),
                  applies=Q(confirmed_at__isnull=True), description="Unconfirmed subscriptions are deleted"),
        Retention("marketing.unsubscribed", after="unsubscribed_at", keep_for=timedelta(days=30), then=Delete(),
                  applies=Q(unsubscribed_at__isnull=False), description="Ended subscriptions are deleted"),
    ],
)
register(
    PolicyAcknowledgement, subject="user", purpose=ProcessingPurpose.LEGAL, legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={}, category=DataCategory.COMMUNICATIONS, description="When you read a changed privacy policy.",
)
not_personal(ConsentText, reason="The wording of consent questions.")
not_personal(PolicyVersion, reason="The privacy policy's versions.")
not_personal(DailyPageViews, DailyProductViews, reason="Counts per day and page; no identifiers (P9).")


register(Restriction, subject="user", purpose=ProcessingPurpose.PRIVACY_RIGHTS, legal_basis=LegalBasis.LEGAL_OBLIGATION,
         fields={}, category=DataCategory.COMMUNICATIONS,
         description="When you asked us to restrict the use of your data, and when that ended.")


register(
    LegalHold, subject="user", purpose=ProcessingPurpose.LEGAL, legal_basis=LegalBasis.LEGAL_OBLIGATION,
    category=DataCategory.COMMUNICATIONS,
    fields={"reason": Personal(DataCategory.COMMUNICATIONS, export=False, mask=mask_text,
                               erase=Keep("The details of an investigation or claim stay while the claim "
                                          "can be brought; they are never shown to the person."))},
    plain=["target", "kind", "reference", "legal_basis", "lift_reason", "source"],
    keep_rows="A legal hold is a legal record: it stays, without the link to you.",
    retention=[Retention("legal_holds.lifted", after="lifted_at", keep_for=timedelta(days=365), then=Delete(),
                         applies=Q(lifted_at__isnull=False),
                         description="Legal holds are deleted a year after they were lifted or expired")],
    description="Legal holds on your records: which records, on what legal basis and until when.",
)


def _delete_export_files(ids) -> None:
    for name in ExportJob.objects.filter(pk__in=ids).exclude(file_name="").values_list("file_name", flat=True):
        export_file_delete(name=name)


not_personal(PurgeRun, PurgeLock, reason="Counts and timings of retention runs; never values.")
not_personal(PurgePostponement, reason="Which record ids a purge postponed, and why.")

register(
    PrivacyRequest, subject="user", guest_index="email_index", purpose=ProcessingPurpose.PRIVACY_RIGHTS,
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={
        "requester_email": Personal(DataCategory.CONTACT, erase=Anonymise(), mask=mask_email),
        "email_index": Personal(DataCategory.CONTACT, erase=Anonymise(), export=False,
                                plaintext_reason="Blind index, to find a guest's requests."),
        "message": Personal(DataCategory.COMMUNICATIONS, erase=Anonymise()),
        "reply": Personal(DataCategory.COMMUNICATIONS, erase=Anonymise()),
        "confirm_token": Personal(DataCategory.TECHNICAL, erase=Anonymise(), export=False,
                                  plaintext_reason="Random token in the confirmation link."),
        "jurisdiction": Personal(DataCategory.ADDRESS, erase=Anonymise(), mask=show),
    },
    plain=["kind", "status", "verified_by", "extended_reason", "refusal_reason", "clock", "scope"],
    keep_rows="Proof that your request was handled, and when.",
    retention=[Retention("requests.closed", after="closed_at", keep_for=timedelta(days=3 * 365), then=Anonymise(),
                         applies=Q(closed_at__isnull=False, email_index__gt=""),
                         description="Closed requests lose the requester's details after 3 years")],
    description="Your privacy requests, questions and complaints, and our answers. After erasure we keep "
                "that a request existed and how it was handled, without your details.",
)
register(
    ExportJob, subject="user", guest_index="guest_index", purpose=ProcessingPurpose.PRIVACY_RIGHTS,
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={"guest_index": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                                    plaintext_reason="Blind index of a guest's email."),
            "file_name": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                                  plaintext_reason="A random file name; the file itself is encrypted."),
            "token": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
                              plaintext_reason="Random token for the download link.")},
    plain=["status"], description="Your data downloads; files are deleted after 7 days.",
    retention=[Retention("exports.expired", after="expires_at", keep_for=timedelta(0), then=Delete(),
                         description="Download files and their records are deleted after 7 days")],
    before_delete=lambda ids: _delete_export_files(ids),
)
not_personal(ErasureReceipt, reason="What an erasure did: kinds of records with counts, field names, reasons, "
             "dates and processors' answers; never a value of the person. Its random token opens this receipt "
             "only, until the link expires.")
register(ProcessorDeletion, subject="", purpose=ProcessingPurpose.PRIVACY_RIGHTS, legal_basis=LegalBasis.LEGAL_OBLIGATION,
         fields={}, category=DataCategory.TECHNICAL, plain=["processor", "reference", "outcome"],
         description="Proof that our processors were told to delete a person's data.")


register(
    Incident, subject="", purpose=ProcessingPurpose.LEGAL, legal_basis=LegalBasis.LEGAL_OBLIGATION, category=DataCategory.TECHNICAL,
    fields={"description": Personal(DataCategory.COMMUNICATIONS, erase=Keep("The incident register is a legal record.")),
            "remedial_steps": Personal(DataCategory.COMMUNICATIONS, erase=Keep("The incident register is a legal record.")),
            "advice": Personal(DataCategory.COMMUNICATIONS, erase=Keep("The incident register is a legal record."))},
    plain=["title", "categories", "severity"],
    description="Our register of security incidents.",
)
register(
    AffectedPerson, subject="user", guest_index="email_index", purpose=ProcessingPurpose.LEGAL,
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    fields={"email": Personal(DataCategory.CONTACT, mask=mask_email),
            "email_index": Personal(DataCategory.CONTACT, export=False, plaintext_reason="Blind index of the email.")},
    keep_rows="The incident register must show who was told; it no longer leads to you.",
    description="Security incidents that concerned your data, and when we told you.",
)
