"""Partial erasure (P17): a person deletes one kind of their data without closing the account.

The kinds are declared by the apps that own the rows (registry hook `on_partial_erasure`):
browsing history and saved addresses (shop), customer-service conversations (orders), and here
the marketing subscription and the other signed-in sessions. Privacy names none of shop's or
orders' models.

Invariants: only the signed-in person's rows of that one kind go, at once, in one transaction
with its record: an erasure request answered at once (kind "partial erasure", its scope) and an
access-log entry per kind of record deleted, by ids. Everything else of theirs, and everyone
else's data, stays. What stays of that kind, and why, is said before and after.
"""
from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from privacy.audit.log import audit_log
from privacy.consent import ledger as consent
from privacy.models import (
    AccessLogEntry,
    ConsentRecord,
    LegalHold,
    MarketingSubscriber,
    PrivacyRequest,
)
from privacy.registry.hooks import (
    PartialErasure,
    PartialOutcome,
    on_partial_erasure,
    partial_erasures,
)
from privacy.rights.subject_requests import request_open

# The order the privacy page lists them in; kinds declared later follow.
ORDER = ("browsing", "addresses", "conversations", "marketing", "sessions")


class UnknownKind(Exception):
    """No such kind of data to delete; nothing was done."""


def person_hold_until(user):
    """The end of the latest active legal hold on the whole person, else None. Such a hold keeps
    all their records, so no kind of them is deleted until it ends (stopping marketing email
    stays possible at any time: that is withdrawing consent, on the privacy page's choices)."""
    hold = (LegalHold.objects.active().filter(target=LegalHold.Target.PERSON, user=user)
            .order_by("-expires_at").first())
    return hold.expires_at if hold is not None else None


def held_reason(until) -> str:
    return (f"A legal hold applies to all your records until {until:%-d %B %Y} at the latest: nothing of them "
            "can be deleted before it ends. You can still stop marketing emails under Your choices.")


def partial_kinds() -> list[PartialErasure]:
    declared = partial_erasures()
    return sorted(declared.values(), key=lambda k: (ORDER.index(k.kind) if k.kind in ORDER else len(ORDER), k.kind))


def _kind(kind: str) -> PartialErasure:
    found = partial_erasures().get(kind)
    if found is None:
        raise UnknownKind(kind)
    return found


def partial_preview(*, user, kind: str, session_key: str = "") -> PartialOutcome:
    """What deleting `kind` would take from `user` now, and what would stay; changes nothing."""
    return _kind(kind).run(user=user, apply=False, keep_session_key=session_key)


def summary(kind: PartialErasure, outcome: PartialOutcome) -> str:
    """The answer recorded on the request and shown to the person."""
    done = f"{kind.label}: deleted {outcome.count} record(s)." if outcome.count else f"{kind.label}: nothing to delete."
    return " ".join([done, *outcome.kept])


@transaction.atomic
def partial_erase(*, user, kind: str, session_key: str = "") -> tuple[PrivacyRequest, PartialOutcome]:
    """Delete one kind of `user`'s data now and record it as an erasure request answered at once;
    under a legal hold on the whole person, record it refused and delete nothing. Raises
    UnknownKind (nothing done)."""
    declared = _kind(kind)
    held_until = person_hold_until(user)
    if held_until is not None:  # refused, and recorded as such: nothing is deleted
        case = request_open(kind=PrivacyRequest.Kind.PARTIAL_ERASURE, user=user,
                            verified_by=PrivacyRequest.Verification.SESSION, status=PrivacyRequest.Status.REFUSED,
                            notify=False)
        case.scope, case.closed_at, case.refusal_reason = kind, timezone.now(), held_reason(held_until)[:300]
        case.save(update_fields=["scope", "closed_at", "refusal_reason"])
        return case, PartialOutcome()
    outcome = declared.run(user=user, apply=True, keep_session_key=session_key)
    case = request_open(kind=PrivacyRequest.Kind.PARTIAL_ERASURE, user=user,
                        verified_by=PrivacyRequest.Verification.SESSION, status=PrivacyRequest.Status.COMPLETED,
                        notify=False)
    case.scope, case.closed_at, case.reply = kind, timezone.now(), summary(declared, outcome)
    case.save(update_fields=["scope", "closed_at", "reply"])
    for label, ids in sorted(outcome.deleted.items()):
        audit_log(actor=user, action=AccessLogEntry.Action.ERASE, model_label=label, object_ids=ids,
                  subject_user_ids=[user.pk], reason=f"partial erasure: {kind} (request {case.pk})")
    if not outcome.deleted:  # asked and answered, even with nothing to delete
        audit_log(actor=user, action=AccessLogEntry.Action.ERASE, model_label="person", object_ids=[user.pk],
                  subject_user_ids=[user.pk], reason=f"partial erasure: {kind} (request {case.pk}), nothing held")
    return case, outcome


# --- the kinds privacy owns ----------------------------------------------------------------

def _marketing_erase(*, user, apply: bool, **_) -> PartialOutcome:
    """The subscription goes (the address it mails, its tokens); the ledger keeps, as proof, that
    consent was given and then withdrawn, recorded here before the row goes."""
    subscriber = MarketingSubscriber.objects.filter(user=user).first()
    if subscriber is None:
        return PartialOutcome()
    if apply:
        if subscriber.unsubscribed_at is None:
            consent.record(purpose=ConsentRecord.Purpose.MARKETING_EMAIL, granted=False,
                           channel=ConsentRecord.Channel.DASHBOARD, user=user, subscriber=subscriber)
        MarketingSubscriber.objects.filter(pk=subscriber.pk).delete()
    return PartialOutcome(deleted={"privacy.MarketingSubscriber": [subscriber.pk]},
                          kept=["The record that you agreed and then withdrew stays, as proof that we asked."])


def _sessions_erase(*, user, apply: bool, keep_session_key: str = "", **_) -> PartialOutcome:
    """Every place the person is signed in, except this browser, is signed out: the session and
    its record (device, network, times) go."""
    from allauth.usersessions.models import UserSession

    others = UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or None)
    rows = list(others.values_list("pk", "session_key"))
    if apply and rows:
        Session.objects.filter(session_key__in=[key for _, key in rows]).delete()
        UserSession.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return PartialOutcome(deleted={"usersessions.UserSession": [pk for pk, _ in rows]} if rows else {},
                          kept=["This browser stays signed in."])


on_partial_erasure(
    "marketing", label="Marketing subscription",
    explains="Your marketing email subscription: we stop sending and delete the address it used. The record "
             "that you agreed and then withdrew stays, as proof that we asked.",
    run=_marketing_erase,
)
on_partial_erasure(
    "sessions", label="Other sessions",
    explains="Everywhere you are signed in except this browser: those devices are signed out and their records "
             "(device, network, times) deleted. This browser stays signed in.",
    run=_sessions_erase,
)
