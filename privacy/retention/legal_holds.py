"""Placing, changing, lifting and expiring legal holds (P13, P17).

A hold postpones erasure and retention for what it covers and nothing else: a person's hold
covers every record of theirs, an order's hold the order, its payments and its lines (orders
declares that). Every placement, change and lift writes an access-log entry naming the fields
touched, never the investigation's details. When a person's erasure had to leave held records
alone, those records are erased the moment the last hold on them ends (lifted or expired).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from privacy.audit.log import audit_log
from privacy.models import AccessLogEntry, LegalHold
from privacy.registry import declarations as registry
from privacy.registry.hooks import hold_targets, legal_hold_condition
from privacy.rights.erasure import anonymise_rows

MAX_HOLD = timedelta(days=10 * 366)  # a longer hold is a typing error, not a legal obligation
LABEL = "privacy.LegalHold"


class HoldError(ValueError):
    """The hold was refused; nothing changed. The message says why, for staff."""


@dataclass(frozen=True)
class HoldTerms:
    kind: str
    reason: str
    legal_basis: str
    expires_at: datetime


def hold_terms_check(terms: HoldTerms) -> None:
    """HoldError unless the terms are complete and the expiry is in the future (at most ten years)."""
    if terms.kind not in LegalHold.Kind.values:
        raise HoldError("Choose what kind of hold this is.")
    if not terms.reason.strip() or not terms.legal_basis.strip():
        raise HoldError("A hold needs a reason and a legal basis.")
    now = timezone.now()
    if terms.expires_at <= now:
        raise HoldError("The expiry must be in the future.")
    if terms.expires_at > now + MAX_HOLD:
        raise HoldError("A hold can last at most ten years; set a nearer expiry and extend it when needed.")


def _record(actor, hold: LegalHold, action: str, fields, reason: str) -> None:
    audit_log(actor=actor, action=action, model_label=LABEL, object_ids=[hold.pk], fields=fields,
              subject_user_ids=[hold.user_id], reason=reason)


@transaction.atomic
def legal_hold_place(*, terms: HoldTerms, placed_by, user=None, order_reference: str = "",
                     source: str = "") -> LegalHold:
    """A hold on a person (`user`) or on one order (`order_reference`). HoldError if the terms are
    incomplete or the order does not exist; a second hold from the same `source` (a dispute id)
    returns the first one unchanged, so a repeated webhook adds nothing."""
    hold_terms_check(terms)
    if source:
        existing = LegalHold.objects.filter(source=source).first()
        if existing is not None:
            return existing
    if (user is None) == (not order_reference):
        raise HoldError("A hold names either a person or an order.")
    hold = LegalHold(kind=terms.kind, reason=terms.reason.strip(), legal_basis=terms.legal_basis.strip(),
                     expires_at=terms.expires_at, placed_by=placed_by if getattr(placed_by, "pk", None) else None,
                     source=source)
    if user is not None:
        hold.target, hold.user = LegalHold.Target.PERSON, user
    else:
        target = hold_targets().get(LegalHold.Target.ORDER)
        found = target.find(order_reference) if target is not None else None
        if found is None:
            raise HoldError("No order has that reference.")
        hold.target, (hold.order_id, hold.user_id) = LegalHold.Target.ORDER, found
        hold.reference = order_reference.strip().upper()
    hold.save()
    _record(placed_by, hold, AccessLogEntry.Action.HOLD_PLACE, ["kind", "reason", "legal_basis", "expires_at"],
            "legal hold placed")
    return hold


@transaction.atomic
def legal_hold_change(*, hold: LegalHold, terms: HoldTerms, changed_by) -> list[str]:
    """New terms for an active hold; returns the names of the fields that changed."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        raise HoldError("This hold was already lifted; place a new one.")
    hold_terms_check(terms)
    changed = [name for name in ("kind", "reason", "legal_basis", "expires_at")
               if getattr(hold, name) != (getattr(terms, name).strip() if name in ("reason", "legal_basis")
                                          else getattr(terms, name))]
    if changed:
        for name in changed:
            value = getattr(terms, name)
            setattr(hold, name, value.strip() if isinstance(value, str) and name != "kind" else value)
        hold.save(update_fields=changed)
        _record(changed_by, hold, AccessLogEntry.Action.HOLD_CHANGE, changed, "legal hold changed")
    return changed


def _held_rows() -> dict[type, set]:
    found = {}
    for entry in registry.entries():
        condition = legal_hold_condition(entry.model)
        if condition is not None:
            found[entry.model] = set(entry.model._base_manager.filter(condition).values_list("pk", flat=True))
    return found


def _erase_released(before: dict[type, set]) -> dict[str, int]:
    """Erase the rows held before and free now: what a past erasure had to leave behind."""
    after = _held_rows()
    done = {}
    for entry in registry.entries():
        released = sorted(before.get(entry.model, set()) - after.get(entry.model, set()))
        if not released:
            continue
        qs = entry.model._base_manager.filter(pk__in=released)
        if entry.keep_rows:
            done[entry.label] = anonymise_rows(entry, qs)
        else:
            if entry.before_delete:
                entry.before_delete(released)
            done[entry.label] = qs.delete()[0]
    return done


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, lifted_by, reason: str) -> LegalHold:
    """End a hold (by hand, when the dispute closes, or at expiry). Records the person's erasure
    left waiting are erased now, unless another hold still covers them."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        return hold
    reason = reason.strip()[:200]
    if not reason:
        raise HoldError("Say why the hold is lifted.")
    before = _held_rows() if hold.erasure_waiting else {}
    hold.lifted_at, hold.lift_reason = timezone.now(), reason
    hold.lifted_by = lifted_by if getattr(lifted_by, "pk", None) else None
    hold.save(update_fields=["lifted_at", "lift_reason", "lifted_by"])
    _record(lifted_by, hold, AccessLogEntry.Action.HOLD_LIFT, ["lifted_at"], f"legal hold lifted: {reason}")
    if hold.erasure_waiting:
        erased = _erase_released(before)
        if erased:
            audit_log(actor=None, action=AccessLogEntry.Action.ERASE, model_label="person", object_ids=[hold.pk],
                      subject_user_ids=[hold.user_id], fields=sorted(erased),
                      reason="erasure request: records released by a legal hold")
    return hold


def legal_hold_lift_source(*, source: str, reason: str) -> int:
    """Lift the active hold a provider's event placed (its dispute closed)."""
    holds = list(LegalHold.objects.filter(source=source, lifted_at__isnull=True))
    for hold in holds:
        legal_hold_lift(hold=hold, lifted_by=None, reason=reason)
    return len(holds)


def legal_holds_expire(*, now: datetime | None = None) -> int:
    """Daily (beat): holds past their expiry are lifted, one transaction each; safe to run twice."""
    due = LegalHold.objects.filter(lifted_at__isnull=True, expires_at__lte=now or timezone.now())
    count = 0
    for hold in due.order_by("pk")[:1000]:
        legal_hold_lift(hold=hold, lifted_by=None, reason="expired")
        count += 1
    return count


def dispute_terms(*, dispute_id: str) -> HoldTerms:
    """What a payment provider's dispute places on its order, until the dispute closes."""
    return HoldTerms(kind=LegalHold.Kind.PAYMENT_DISPUTE,
                     reason=f"Payment dispute {dispute_id or '(no id)'} opened by the card holder's bank.",
                     legal_basis="Defending a payment dispute (legal claims; card scheme rules)",
                     expires_at=timezone.now() + timedelta(days=settings.PRIVACY_DISPUTE_HOLD_DAYS))
