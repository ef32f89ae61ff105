"""The request workflow (P17, P18, P24): every request has a kind, a status, how the
requester's identity was verified, a due date, extension and refusal with reasons, and a
reply emailed to the requester. Staff are reminded daily of what is overdue or nearly due.

The due dates follow where the person lives (privacy.rights.clocks): the request records the
jurisdiction (from the form, else the person's saved address), the governing rule, the answer
date (due_at), the acknowledgement date a law sets, and how far an extension may go."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from privacy.audit.log import audit_log
from privacy.models import AccessLogEntry, PrivacyRequest
from privacy.processors.disclosure import send_personal_email
from privacy.protection.crypto import email_index
from privacy.registry.hooks import residence_of
from privacy.rights.clocks import CLOCKS, deadlines_for

NEARLY_DUE_DAYS = 5
ACKNOWLEDGE_WARNING_DAYS = 2


class RequestError(Exception):
    pass


def request_clock_set(*, case: PrivacyRequest) -> PrivacyRequest:
    """Fill the request's deadlines from when it arrived and where the person lives (the recorded
    jurisdiction, else their saved address's country), without saving. Invariant: due_at and
    acknowledge_by are the earliest any applicable clock sets; `clock` names the rule behind due_at."""
    if not case.jurisdiction and case.user_id:
        case.jurisdiction = residence_of(user=case.user)
    found = deadlines_for(received_at=case.received_at, jurisdiction=case.jurisdiction)
    case.due_at, case.clock = found.answer_by, found.clock
    case.acknowledge_by, case.answer_limit = found.acknowledge_by, found.answer_limit
    return case


def clock_name(case: PrivacyRequest) -> str:
    """The governing rule in words, for the person and for staff."""
    clock = CLOCKS.get(case.clock)
    return clock.name if clock else case.get_clock_display()


@transaction.atomic
def request_open(*, kind: str, user=None, email: str = "", message: str = "", verified_by: str = PrivacyRequest.Verification.NONE,
                 status: str = PrivacyRequest.Status.RECEIVED, notify: bool = True, jurisdiction: str = "") -> PrivacyRequest:
    """File a request on the clock of where the person lives. With notify, the requester is
    emailed an acknowledgement (and acknowledged_at set when it goes); without, the caller tells
    the person itself (the page they are on, its own email), so it counts as acknowledged now."""
    email = email or (user.email if user else "")
    now = timezone.now()
    case = request_clock_set(case=PrivacyRequest(
        kind=kind, user=user, requester_email=email, email_index=email_index(email) if email else "",
        message=message, verified_by=verified_by, status=status, received_at=now, jurisdiction=jurisdiction[:6],
        confirm_token=secrets.token_hex(16), acknowledged_at=None if notify and email else now))
    case.save()
    if notify and email:
        transaction.on_commit(lambda: _acknowledge(case.pk))
    return case


def _acknowledge(request_id: int) -> None:
    case = PrivacyRequest.objects.get(pk=request_id)
    target = deadlines_for(received_at=case.received_at, jurisdiction=case.jurisdiction).target_by
    text = (f"We received your {case.get_kind_display().lower()} request on {case.received_at:%d %B %Y}.\n"
            f"We aim to answer by {target:%d %B %Y}, and will answer by {case.due_at:%d %B %Y} at the latest "
            f"({clock_name(case)}).\n— Privacy-first Shop")
    send_personal_email(to=case.requester_email, subject=f"We received your request (#{case.pk})", text=text,
                        fields=["user.email"], subject_user_id=case.user_id, guest_index=case.email_index,
                        reference=f"request {case.pk}")
    PrivacyRequest.objects.filter(pk=request_id, acknowledged_at__isnull=True).update(acknowledged_at=timezone.now())


@transaction.atomic
def request_extend(*, case: PrivacyRequest, reason: str, days: int = 30) -> PrivacyRequest:
    """Put the answer off by `days`, never past what every applicable rule allows (GDPR: two more
    months; CCPA: 45 more days; our policy: 30 working days in all), with a reason the requester is
    told (the GDPR's recorded reason, the CCPA's notice). Reaching a rule's limit makes it the
    governing rule."""
    reason = reason.strip()
    if not reason:
        raise RequestError("An extension needs a reason; the requester is told it.")
    if not case.is_open:
        raise RequestError("Only open requests can be extended.")
    found = deadlines_for(received_at=case.received_at, jurisdiction=case.jurisdiction)
    case.answer_limit = found.answer_limit
    case.due_at = max(case.due_at, min(case.due_at + timedelta(days=days), found.answer_limit))
    if case.due_at == found.answer_limit:
        case.clock = found.limit_clock
    case.extended_reason = reason[:300]
    case.save(update_fields=["due_at", "extended_reason", "answer_limit", "clock"])
    _tell(case, f"We need more time for your request #{case.pk}",
          f"We need more time: {reason}\nWe will answer by {case.due_at:%d %B %Y} ({clock_name(case)}).")
    return case


@transaction.atomic
def request_refuse(*, case: PrivacyRequest, reason: str) -> PrivacyRequest:
    reason = reason.strip()
    if not reason:
        raise RequestError("A refusal must explain why.")
    case.status, case.refusal_reason, case.closed_at = PrivacyRequest.Status.REFUSED, reason[:300], timezone.now()
    case.save(update_fields=["status", "refusal_reason", "closed_at"])
    _tell(case, f"Your request #{case.pk}",
          f"We cannot do what you asked, because: {reason}\nYou may complain to your data protection authority.")
    return case


@transaction.atomic
def request_complete(*, case: PrivacyRequest, reply: str = "") -> PrivacyRequest:
    case.status, case.closed_at = PrivacyRequest.Status.COMPLETED, timezone.now()
    if reply:
        case.reply = reply
    case.save(update_fields=["status", "closed_at", "reply"])
    if reply:
        _tell(case, f"Our answer to your request #{case.pk}", reply)
    return case


@transaction.atomic
def request_answer(*, case: PrivacyRequest, reply: str, by) -> PrivacyRequest:
    """Staff answer a request and close it: the reply is emailed to the requester, and the access
    log records who wrote it. A closed request is not answered again (nothing is changed)."""
    if not case.is_open:
        raise RequestError("This request is already closed; its answer was sent.")
    case = request_complete(case=case, reply=reply)
    audit_log(actor=by, action=AccessLogEntry.Action.CHANGE, model_label="privacy.PrivacyRequest",
              object_ids=[case.pk], fields=["reply", "status"], subject_user_ids=[case.user_id])
    return case


ERASED_REPLY = "The data was erased as you asked."


def erasure_requests_open(*, user=None, email: str = "") -> list[int]:
    """The person's own erasure requests still open (scheduled, deferred...): found before an
    erasure, which unlinks them from the person, so they can be closed after it."""
    mine = PrivacyRequest.objects.filter(user=user) if user is not None else \
        PrivacyRequest.objects.filter(user__isnull=True, email_index=email_index(email))
    return list(mine.filter(kind=PrivacyRequest.Kind.ERASURE, status__in=PrivacyRequest.OPEN)
                .values_list("pk", flat=True))


@transaction.atomic
def requests_close_erased(*, ids: list[int], now: datetime | None = None) -> int:
    """Close requests whose erasure was carried out another way (by staff, or a guardian's request):
    otherwise they would wait, scheduled, for a person who is no longer there."""
    return PrivacyRequest.objects.filter(pk__in=ids, status__in=PrivacyRequest.OPEN).update(
        status=PrivacyRequest.Status.COMPLETED, closed_at=now or timezone.now())


@transaction.atomic
def request_close_erased(*, case: PrivacyRequest, to: str) -> PrivacyRequest:
    """Close a request once its erasure is done. The erasure anonymised the row with the rest of
    the person's data, so only the closing is written; the requester is told at the address they
    gave (`to`, read before the erasure), recorded without a link to the person: none is left."""
    case.status, case.closed_at, case.reply = PrivacyRequest.Status.COMPLETED, timezone.now(), ERASED_REPLY
    # An update, not save(): `case` was read before the erasure and still names the person, so
    # save() would seal our answer under their data key, destroyed when this commits. Written
    # this way it stays under the shop-wide key, readable as the proof it is.
    PrivacyRequest.objects.filter(pk=case.pk).update(status=case.status, closed_at=case.closed_at, reply=case.reply)
    if to:
        transaction.on_commit(lambda: send_personal_email(
            to=to, subject=f"Our answer to your request #{case.pk}", text=ERASED_REPLY + "\n— Privacy-first Shop",
            fields=["user.email"], reference=f"request {case.pk}"))
    return case


def requester_address(case: PrivacyRequest) -> str:
    """Where the requester is told: the address they gave, else their account's."""
    return case.requester_email or (case.user.email if case.user_id else "")


def _tell(case: PrivacyRequest, subject: str, body: str) -> None:
    email = requester_address(case)
    if email:
        transaction.on_commit(lambda: send_personal_email(
            to=email, subject=subject, text=body + "\n— Privacy-first Shop", fields=["user.email"],
            subject_user_id=case.user_id, guest_index=case.email_index, reference=f"request {case.pk}"))


def deadline_state(case: PrivacyRequest, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if not case.is_open:
        return "closed"
    if case.due_at < now:
        return "overdue"
    if case.due_at - now <= timedelta(days=NEARLY_DUE_DAYS):
        return "nearly due"
    return "on time"


def acknowledgement_due(case: PrivacyRequest, now: datetime | None = None) -> bool:
    """A law's acknowledgement deadline (CCPA: 10 business days) is near or past and none was sent."""
    now = now or timezone.now()
    return (case.is_open and case.acknowledged_at is None and case.acknowledge_by is not None
            and case.acknowledge_by - now <= timedelta(days=ACKNOWLEDGE_WARNING_DAYS))


def requests_needing_attention(now: datetime | None = None):
    """Open requests whose governing answer date is near or past, or whose acknowledgement is."""
    now = now or timezone.now()
    return PrivacyRequest.objects.filter(status__in=PrivacyRequest.OPEN).filter(
        Q(due_at__lte=now + timedelta(days=NEARLY_DUE_DAYS))
        | Q(acknowledged_at__isnull=True, acknowledge_by__lte=now + timedelta(days=ACKNOWLEDGE_WARNING_DAYS)))


def _reminder_line(case: PrivacyRequest, now: datetime) -> str:
    line = (f"#{case.pk} {case.get_kind_display()} — {deadline_state(case, now)}, due {case.due_at:%d %b %Y} "
            f"({case.get_clock_display()})")
    if acknowledgement_due(case, now):
        line += f"; not acknowledged yet, acknowledge by {case.acknowledge_by:%d %b %Y}"
    return line


def remind_staff(now: datetime | None = None) -> int:
    """Daily: email privacy officers the list of overdue and nearly-due requests (ids and kinds only),
    each by its governing rule's dates."""
    now = now or timezone.now()
    pending = list(requests_needing_attention(now).exclude(last_reminder_at__date=now.date()))
    if not pending:
        return 0
    officers = Group.objects.filter(name="Privacy officer").values_list("user__pk", "user__email")
    lines = [_reminder_line(r, now) for r in pending]
    for officer_id, address in officers:
        if address:  # each officer their own email: a disclosure of their address, and only theirs
            send_personal_email(to=address, subject=f"{len(pending)} privacy request(s) need attention",
                                text="\n".join(lines), fields=["user.email"], subject_user_id=officer_id,
                                reference="staff reminder", purpose="Reminding staff of due requests")
    PrivacyRequest.objects.filter(pk__in=[r.pk for r in pending]).update(last_reminder_at=now)
    return len(pending)


@transaction.atomic
def access_request_open(*, user=None, email: str = "", verified_by: str = PrivacyRequest.Verification.NONE,
                        status: str = PrivacyRequest.Status.RECEIVED) -> PrivacyRequest:
    """"A copy of my data" for a person: while an access request of theirs is open (its export
    not delivered yet), asking again returns that one instead of filing another in the officers'
    queue. A signed-in ask verifies a request still waiting for verification."""
    if user is not None:
        # Serialises concurrent clicks of one person (PostgreSQL; SQLite writes one at a time anyway).
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        mine = PrivacyRequest.objects.filter(user=user)
    else:
        mine = PrivacyRequest.objects.filter(user__isnull=True, email_index=email_index(email))
    found = mine.filter(kind=PrivacyRequest.Kind.ACCESS, status__in=PrivacyRequest.OPEN).order_by("received_at").first()
    if found is None:
        return request_open(kind=PrivacyRequest.Kind.ACCESS, user=user, email=email, verified_by=verified_by, status=status,
                            notify=False)
    if user is not None and found.verified_by == PrivacyRequest.Verification.NONE:
        found.verified_by, found.status = verified_by, status
        found.save(update_fields=["verified_by", "status"])
    return found
