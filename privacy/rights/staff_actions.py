"""What staff carry out by hand for one person, found by email the one way every lookup finds
them (the canonical form; two candidate accounts refuse): erase now, for a request ("Erase now"
in the request queue) or from the command line, and export to a file.

Its own module, not subject_requests: erasure files its scheduled requests through
subject_requests, so subject_requests cannot import erasure back."""
from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from privacy.audit.log import audit_log
from privacy.models import AccessLogEntry, PrivacyRequest
from privacy.protection.emailaddr import AmbiguousEmail, account_for_email, canonical_email
from privacy.rights.erasure import ErasureReport, erase_subject
from privacy.rights.export import export_archive, export_document
from privacy.rights.receipts import receipt_attach, receipt_send
from privacy.rights.subject_requests import (
    ERASED_REPLY,
    RequestError,
    erasure_requests_open,
    request_close_erased,
    requester_address,
    requests_close_erased,
)

ERASABLE_KINDS = (PrivacyRequest.Kind.ERASURE, PrivacyRequest.Kind.GUARDIAN)


class PersonNotFound(Exception):
    """The address names nobody we can act on; nothing was done. The message says why."""


def person_for_email(value: str):
    """(account or None for a guest, canonical email). PersonNotFound for an address with no
    canonical form, or one that more than one account answers to."""
    try:
        return account_for_email(value), canonical_email(value)
    except ValidationError as exc:
        raise PersonNotFound(f"Not a usable email address: {' '.join(exc.messages)}") from None
    except AmbiguousEmail as exc:
        raise PersonNotFound(str(exc)) from None


@transaction.atomic
def person_erase(*, email: str, by=None, force: bool = False) -> ErasureReport:
    """Erase the person this address names, now, and close their own open erasure requests (a
    scheduled one would otherwise wait for someone who is gone). Raises PersonNotFound, or
    ErasureBlocked while orders or returns are open unless `force`; either way nothing changed."""
    user, address = person_for_email(email)
    guest_email = "" if user else address
    pending = erasure_requests_open(user=user, email=guest_email)
    report = erase_subject(user=user, email=guest_email, requested_by=by, force=force)
    requests_close_erased(ids=pending)
    return report


@transaction.atomic
def request_erase_now(*, case: PrivacyRequest, email: str, by) -> ErasureReport:
    """Carry out an erasure request now (one received by post, or a guardian's for a minor, which
    goes ahead even with orders open) and close it with its answer. Raises RequestError for a
    request that is not an open erasure, PersonNotFound, or ErasureBlocked; nothing changes then."""
    if case.kind not in ERASABLE_KINDS:
        raise RequestError("Only an erasure request, or a guardian's, erases data.")
    if not case.is_open:
        raise RequestError("This request is already closed.")
    to = requester_address(case)  # read now: the erasure blanks it
    report = person_erase(email=email, by=by, force=case.kind == PrivacyRequest.Kind.GUARDIAN)
    request_close_erased(case=case, to="")  # the answer goes with the receipt, below
    receipt_attach(receipt_id=report.receipt_id, case=case)
    transaction.on_commit(lambda: receipt_send(
        receipt_id=report.receipt_id, to=to, subject=f"Our answer to your request #{case.pk}",
        opening=ERASED_REPLY, reference=f"request {case.pk}"))
    return report


class NothingHeld(Exception):
    """No record of the person: no file was written."""


def person_export_to_file(*, email: str, path: Path, by=None) -> int:
    """Write everything held about the person this address names to a private ZIP (mode 0600) and
    record the export in the access log; returns how many records. PersonNotFound or NothingHeld,
    with no file written, otherwise."""
    user, address = person_for_email(email)
    doc = export_document(user=user, email="" if user else address)
    count = sum(len(records["records"]) for records in doc["models"].values())
    if count == 0:
        raise NothingHeld("Nothing is held for that email.")
    path.touch(mode=0o600)
    path.chmod(0o600)  # before any byte is written, an existing file too
    path.write_bytes(export_archive(doc))
    audit_log(actor=by, action=AccessLogEntry.Action.EXPORT, model_label="person",
              object_ids=[user.pk if user else "guest"], subject_user_ids=[getattr(user, "pk", None)],
              reason="privacy_export command")
    return count
