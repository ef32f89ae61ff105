"""Erasure (P13, P16, P17): apply the registry to one person.

For every registered model, the person's rows are found through the subject path (and, for
guests, the blind index of their email). Rows of models that keep rows (orders, payments,
consent proof, request records) have their personal fields anonymised and lose the link to
the person; all other rows are deleted. Amounts, lines, dates and references stay. Sessions,
export files and the Stripe customer go too, and every processor's deletion is recorded.
Each model costs a constant number of queries, however many orders the person has.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from celery import signature
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import ForeignKey, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from privacy.audit import log as audit
from privacy.models import (
    AccessLogEntry,
    Disclosure,
    ExportJob,
    LegalHold,
    PrivacyRequest,
    ProcessorDeletion,
)
from privacy.processors.disclosure import PROCESSORS, MailNotSent, send_personal_email
from privacy.protection import sealing
from privacy.protection.crypto import email_index
from privacy.registry import declarations as registry
from privacy.registry.hooks import (
    erasure_blockers,
    erasure_hooks,
    hold_targets,
    legal_hold_condition,
)
from privacy.rights import receipts
from privacy.rights import subjects as selectors
from privacy.rights.export import export_file_delete
from privacy.rights.subject_requests import request_open

log = logging.getLogger(__name__)
CHUNK = 5000  # ids per statement: far below every database's parameter limit


class ErasureBlocked(Exception):
    """Open orders or returns: erasure waits until they are finished."""


@dataclass
class ErasureReport:
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    processors: list[str] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # rows left alone under a legal hold, erased when it ends
    # For the receipt (privacy.rights.receipts): names, reasons and dates only, never a value.
    kept: list[dict] = field(default_factory=list)  # per kind of record kept: fields removed, fields kept and why, until
    holds: list[dict] = field(default_factory=list)  # the legal holds that kept rows: kind, basis, until
    receipt_id: int | None = None


def blocking_reasons(*, user=None, email: str = "") -> list[str]:
    """What the owning apps say makes this person's erasure wait (open orders, open returns)."""
    guest_index = "" if user is not None else email_index(email)
    return [blocker.reason for blocker in erasure_blockers() if blocker.exists(user=user, guest_index=guest_index)]


def anonymise_rows(entry: registry.Entry, qs) -> int:
    """Blank what the registry says to blank on the rows of `qs` and unlink them from the person;
    erasure and the retention purge both anonymise through this."""
    values = {}
    for name, personal in entry.fields.items():
        if isinstance(personal.erase, registry.Keep):
            continue
        replacement = personal.erase.replacement if isinstance(personal.erase, registry.Anonymise) else ""
        values[name] = replacement
    model_fields = {f.name for f in entry.model._meta.concrete_fields}
    if "anonymised_at" in model_fields:
        values["anonymised_at"] = timezone.now()
    subject_fk = entry.subject.split("__")[0] if entry.subject not in ("", "self") else ""
    if subject_fk and "__" not in entry.subject:
        fk = entry.model._meta.get_field(subject_fk)
        if isinstance(fk, ForeignKey) and fk.null:
            values[subject_fk] = None
    return qs.update(**values) if values else 0


STRIPE_PENDING = "deletion requested; waiting for Stripe"


_processor_deleters: dict[str, Callable[[str], str]] = {}


def delete_at_processor(processor: str, *, delete: Callable[[str], str]) -> None:
    """The owning app says how to delete a person's record at a processor, by the reference kept
    on the ProcessorDeletion row (the Stripe customer id); `delete` returns the outcome to record,
    starting with "failed" when it should be tried again."""
    _processor_deleters[processor] = delete


def _stripe_deletion_enqueue(deletion_id: int) -> None:
    # By the task's name: the task module imports this one, so this one must not import it.
    try:
        signature("privacy.tasks.stripe_customer_delete", args=(deletion_id,)).delay()
    except OperationalError:  # broker down: erasure_run_due sends it again
        log.warning("stripe deletion %s not queued; the daily erasure run queues it again", deletion_id)


def stripe_deletion_run(*, deletion_id: int, last_attempt: bool) -> bool:
    """Ask Stripe to delete the customer of one pending deletion and record the outcome (P16).
    Returns False when Stripe failed and it should be tried again; True once settled (deleted,
    already gone, or given up on the last attempt: the outcome then says to retry by hand).
    Running it twice is harmless: only a pending row is acted on, and settled once."""
    deletion = ProcessorDeletion.objects.filter(pk=deletion_id, processor="stripe", outcome=STRIPE_PENDING).first()
    if deletion is None:
        return True
    delete = _processor_deleters.get("stripe")
    outcome = delete(deletion.reference) if delete else "failed (no deletion declared for stripe); retry by hand"
    if outcome.startswith("failed") and not last_attempt:
        return False
    if ProcessorDeletion.objects.filter(pk=deletion_id, outcome=STRIPE_PENDING).update(outcome=outcome[:200]):
        receipts.receipt_processor_update(deletion_id=deletion_id, state=processor_state(outcome),
                                          answer=outcome[:200])
    return True


def processor_state(outcome: str) -> str:
    """A processor's answer as the receipt shows it: pending, failed or done."""
    if outcome == STRIPE_PENDING:
        return "pending"
    return "failed" if outcome.startswith("failed") else "done"


def stripe_deletions_resume(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Queue again the Stripe deletions still pending long after their retries should have
    settled them (the broker was down when the erasure committed)."""
    ids = list(ProcessorDeletion.objects.filter(processor="stripe", outcome=STRIPE_PENDING,
                                                requested_at__lt=timezone.now() - older_than)
               .values_list("pk", flat=True))
    for pk in ids:
        _stripe_deletion_enqueue(pk)
    return len(ids)


def erase_subject(*, user=None, email: str = "", requested_by=None, force: bool = False) -> ErasureReport:
    """Erase one person (a user, or a guest by email). Raises ErasureBlocked while orders or
    returns are open, unless `force` (a guardian's request handled by staff)."""
    if user is None and not email:
        raise ValueError("Whom to erase?")
    reasons = blocking_reasons(user=user, email=email or (user.email if user else ""))
    if reasons and not force:
        raise ErasureBlocked("; ".join(reasons))
    report = ErasureReport()
    emails = {email} if email else set()
    if user is not None:
        emails |= set(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) | {user.email}
    recipients = set(Disclosure.objects.filter(subject_user=user).values_list("processor", flat=True)) \
        if user is not None else set()
    if emails:
        recipients |= set(Disclosure.objects.filter(guest_index__in=[email_index(e) for e in emails])
                          .values_list("processor", flat=True))
    guest_index = "" if user is not None else email_index(email)
    with transaction.atomic():
        deletions_before = ProcessorDeletion.objects.aggregate(m=Max("pk"))["m"] or 0
        for hook in erasure_hooks():  # e.g. the payment provider's customer, deleted once this commits
            line = hook.run(user=user, guest_index=guest_index, requested_by=requested_by)
            if line:
                report.processors.append(line)
        if user is not None:
            keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
            report.deleted["sessions.Session"] = Session.objects.filter(session_key__in=keys).delete()[0]
        for job in ExportJob.objects.filter(user=user) if user is not None else ExportJob.objects.none():
            export_file_delete(name=job.file_name)
        # Find every row first, then change them: anonymising an order unlinks it from the person,
        # so rows found through the order (payments, returns) must be found before that happens.
        found: list[tuple[registry.Entry, list]] = []
        held_by_model: dict[type, set] = {}
        for entry in sorted(registry.entries(), key=lambda e: e.subject == "self"):  # the user row last
            pks: set = set()
            for address in emails or {""}:
                qs = selectors.subject_queryset(entry, user=user, email=address)
                if qs is not None:
                    pks.update(qs.values_list("pk", flat=True))
            held_condition = legal_hold_condition(entry.model) if pks else None
            if held_condition is not None:  # a legal hold keeps what it covers, and only that
                held = set(entry.model._base_manager.filter(pk__in=pks).filter(held_condition)
                           .values_list("pk", flat=True))
                if held:
                    report.held[entry.label] = len(held)
                    held_by_model[entry.model] = held
                    pks -= held
            if pks:
                found.append((entry, sorted(pks)))
        report.holds = _holds_mark_waiting(user=user, held_by_model=held_by_model)
        sealing.destroy_keys_on_commit(user=user, emails=emails, found=found, held=bool(held_by_model))
        for entry, pks in found:
            for start in range(0, len(pks), CHUNK):
                chunk = pks[start:start + CHUNK]
                qs = entry.model._base_manager.filter(pk__in=chunk)
                if entry.keep_rows:
                    count = anonymise_rows(entry, qs)
                    report.anonymised[entry.label] = report.anonymised.get(entry.label, 0) + count
                    if start + CHUNK >= len(pks):  # once per model, after its last chunk
                        report.kept.append(_kept_line(entry, pks))
                else:
                    if entry.before_delete:
                        entry.before_delete(chunk)
                    count = qs.delete()[0]
                    report.deleted[entry.label] = report.deleted.get(entry.label, 0) + count
        told = list(ProcessorDeletion.objects.filter(pk__gt=deletions_before, subject_user_id=user.pk)) \
            if user is not None else []
        for processor in sorted(recipients - {"stripe"}):
            told.append(ProcessorDeletion.objects.create(
                processor=processor, subject_user_id=getattr(user, "pk", None),
                outcome="deletion required under our processing contract"))
            report.processors.append(f"{processor}: notified")
        report.receipt_id = receipts.receipt_create(report=report, processors=[
            receipts.ProcessorAnswer(deletion_id=d.pk, processor=d.processor,
                                     name=PROCESSORS[d.processor].name if d.processor in PROCESSORS else d.processor,
                                     state=processor_state(d.outcome), answer=_processor_answer(d))
            for d in told]).pk
        audit.audit_log(actor=requested_by, action=AccessLogEntry.Action.ERASE, model_label="person",
                        object_ids=[getattr(user, "pk", "guest")], subject_user_ids=[getattr(user, "pk", None)],
                        fields=sorted(report.deleted) + sorted(report.anonymised), reason="erasure request")
    return report


def _holds_mark_waiting(*, user, held_by_model: dict[type, set]) -> list[dict]:
    """The holds that kept some of this person's rows erase them when they end. Returns them as
    the receipt shows them: kind, legal basis, reference, what it covers and until when (never
    the investigation's details)."""
    if not held_by_model:
        return []
    q = Q(user=user) if user is not None else Q(pk__in=[])
    targets = hold_targets()
    for target in targets.values():
        if held_by_model.get(target.model):
            q |= Q(target=target.key, order_id__in=held_by_model[target.model])
    holds = list(LegalHold.objects.active().filter(q).order_by("expires_at", "pk"))
    LegalHold.objects.filter(pk__in=[h.pk for h in holds]).update(erasure_waiting=True)
    return [{"kind": h.get_kind_display(), "basis": h.legal_basis, "reference": h.reference,
             "covers": targets[h.target].covers if h.target in targets else "all your records",
             "until": h.expires_at.isoformat()} for h in holds]


def _kept_line(entry: registry.Entry, pks: list) -> dict:
    """One kind of record kept without the person's details, as the receipt lists it: which
    fields were removed, which stay and why, and when the rows themselves go (the latest date any
    of the declared deletion rules reaches for these rows; None when no rule deletes them)."""
    names = {f.name: str(f.verbose_name) for f in entry.model._meta.concrete_fields}
    until, rule = None, ""
    for retention in entry.retention:
        if not isinstance(retention.then, registry.Delete):
            continue
        latest = None
        for start in range(0, len(pks), CHUNK):
            found = (entry.model._base_manager.filter(pk__in=pks[start:start + CHUNK]).filter(retention.applies)
                     .aggregate(m=Max(retention.after))["m"])
            latest = max(filter(None, [latest, found]), default=None)
        if latest is not None and (until is None or latest + retention.period > until):
            until, rule = latest + retention.period, retention.description
    return {
        "label": entry.label, "kind": str(entry.model._meta.verbose_name_plural), "count": len(pks),
        "why": entry.keep_rows,
        # Technical fields the person never sees (blind indexes, tokens) go too, unnamed.
        "removed": [names.get(n, n) for n, p in entry.fields.items()
                    if p.export and not isinstance(p.erase, registry.Keep)],
        "kept_fields": [{"field": names.get(n, n), "reason": p.erase.reason}
                        for n, p in entry.fields.items() if isinstance(p.erase, registry.Keep)],
        "until": until.isoformat() if until is not None else None, "until_rule": rule,
    }


def _processor_answer(deletion: ProcessorDeletion) -> str:
    if deletion.outcome == STRIPE_PENDING:
        return "Asked to delete your customer record; waiting for their answer."
    if deletion.outcome.startswith("deletion required"):
        found = PROCESSORS.get(deletion.processor)
        return f"Told to delete under our contract. {found.deletion if found else ''}".strip()
    return deletion.outcome


@transaction.atomic
def erasure_schedule(*, user) -> PrivacyRequest:
    existing = PrivacyRequest.objects.filter(user=user, kind=PrivacyRequest.Kind.ERASURE, status__in=PrivacyRequest.OPEN).first()
    if existing:
        return existing
    case = request_open(kind=PrivacyRequest.Kind.ERASURE, user=user, verified_by=PrivacyRequest.Verification.PASSWORD,
                       status=PrivacyRequest.Status.SCHEDULED, notify=False)
    case.scheduled_for = timezone.now() + timedelta(days=settings.PRIVACY_ERASURE_GRACE_DAYS)
    case.save(update_fields=["scheduled_for"])
    transaction.on_commit(lambda: _notify_scheduled(case.pk))
    return case


def _notify_scheduled(case_id: int) -> None:
    """Tell the person the date their account goes and how to cancel until then."""
    case = PrivacyRequest.objects.select_related("user").get(pk=case_id)
    user = case.user
    text = render_to_string("privacy/email/deletion_requested.txt", {
        "name": (getattr(user, "name", "") or "").strip(), "shop_name": settings.SHOP_NAME,
        "scheduled_for": case.scheduled_for, "cancel_url": settings.SITE_URL + reverse("privacy:dashboard")})
    _notify(case, to=user.email, subject=f"Your account will be deleted on {case.scheduled_for:%-d %B %Y}",
            text=text.strip() + "\n", subject_user_id=user.pk)


@transaction.atomic
def erasure_cancel(*, user) -> int:
    return PrivacyRequest.objects.filter(user=user, kind=PrivacyRequest.Kind.ERASURE, status__in=PrivacyRequest.OPEN).update(
        status=PrivacyRequest.Status.CANCELLED, closed_at=timezone.now())


def erasure_run_due(now=None) -> int:
    """Daily (beat): carry out erasures whose grace period is over; defer blocked ones."""
    now = now or timezone.now()
    stripe_deletions_resume()
    done = 0
    for case in PrivacyRequest.objects.filter(kind=PrivacyRequest.Kind.ERASURE, status__in=[PrivacyRequest.Status.SCHEDULED, PrivacyRequest.Status.DEFERRED],
                                             scheduled_for__lte=now).select_related("user"):
        user = case.user
        if user is None:
            continue
        address = user.email
        try:
            report = erase_subject(user=user)
        except ErasureBlocked as exc:
            if case.status != PrivacyRequest.Status.DEFERRED:
                PrivacyRequest.objects.filter(pk=case.pk).update(status=PrivacyRequest.Status.DEFERRED)
                _notify(case, to=address, subject="Your account deletion is waiting for an order",
                        text=f"We will delete your account as soon as this is finished: {exc}.\n— {settings.SHOP_NAME}",
                        subject_user_id=user.pk)
            continue
        PrivacyRequest.objects.filter(pk=case.pk).update(status=PrivacyRequest.Status.COMPLETED, closed_at=now, requester_email="",
                                                        email_index="")
        receipts.receipt_attach(receipt_id=report.receipt_id, case=case)
        # The person is gone: the disclosure of this last email is recorded without a link to them.
        try:
            receipts.receipt_send(receipt_id=report.receipt_id, to=address, subject="Your account was deleted",
                                  opening="As you asked, we deleted your account and your personal data. Orders "
                                          "stay in our accounts without your details.",
                                  reference=f"request {case.pk}")
        except MailNotSent as exc:  # one unsent receipt does not stop the other erasures; staff still see it
            log.warning("erasure receipt for request %s not sent (%s)", case.pk, exc)
        done += 1
    return done


def _notify(case: PrivacyRequest, *, to: str, subject: str, text: str, subject_user_id: int | None) -> None:
    try:
        send_personal_email(to=to, subject=subject, text=text, fields=["user.email"],
                            subject_user_id=subject_user_id, reference=f"request {case.pk}")
    except MailNotSent as exc:  # one unsent notice does not stop the other erasures
        log.warning("erasure notice for request %s not sent (%s)", case.pk, exc)
