"""Stripe's webhooks: verified, parsed strictly, applied once."""
from __future__ import annotations

import hashlib
import json
import logging
import re

import stripe
from django.conf import settings
from django.db import transaction

from config.middleware import unstorable
from orders import services
from orders.models import Order, WebhookEvent
from privacy.retention import dispute_terms, legal_hold_lift_source, legal_hold_place

from .stripe_gateway import stripe_apply_intent

log = logging.getLogger(__name__)


class MalformedEvent(ValueError):
    """A correctly signed event lacking a field the shop reads, or holding one of the wrong type."""


_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")  # fits WebhookEvent.event_id and Payment.intent_id
_EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,80}")
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.closed")


def _expect(ok: bool, field_name: str) -> None:
    if not ok:
        raise MalformedEvent(field_name)


def _optional(obj: dict, key: str, *types) -> bool:
    """Absent, null, or of one of `types` (a bool is no int); text the shop could not store is refused."""
    value = obj.get(key)
    if value is None:
        return True
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types) and not (isinstance(value, str) and unstorable(value))


def stripe_event_parse(payload: bytes) -> dict:
    """The event as plain JSON data, with every field the handlers below read checked for
    presence and type, so that a malformed event is refused as a whole before anything is
    written (never a crash half-way)."""
    try:
        event = json.loads(payload)
    except ValueError as exc:  # UnicodeDecodeError included
        raise MalformedEvent("body is not JSON") from exc
    _expect(isinstance(event, dict), "event")
    _expect(isinstance(event.get("id"), str) and bool(_EVENT_ID.fullmatch(event["id"])), "id")
    _expect(isinstance(event.get("type"), str) and bool(_EVENT_TYPE.fullmatch(event["type"])), "type")
    kind = event["type"]
    if not (kind.startswith("payment_intent.") or kind in DISPUTE_EVENTS):
        return event
    data = event.get("data")
    _expect(isinstance(data, dict) and isinstance(data.get("object"), dict), "data.object")
    obj = data["object"]
    if kind in DISPUTE_EVENTS:
        _expect(_optional(obj, "payment_intent", str), "data.object.payment_intent")
        _expect(obj.get("id") is None or (isinstance(obj["id"], str) and bool(_EVENT_ID.fullmatch(obj["id"]))),
                "data.object.id")
        return event
    _expect(isinstance(obj.get("id"), str) and bool(_EVENT_ID.fullmatch(obj["id"])), "data.object.id")
    _expect(_optional(obj, "status", str), "data.object.status")
    _expect(_optional(obj, "amount_received", int), "data.object.amount_received")
    _expect(_optional(obj, "last_payment_error", dict), "data.object.last_payment_error")
    _expect(_optional(obj.get("last_payment_error") or {}, "message", str), "data.object.last_payment_error.message")
    _expect(_optional(obj, "latest_charge", str, dict), "data.object.latest_charge")
    charge = obj.get("latest_charge")
    if isinstance(charge, dict):
        _expect(_optional(charge, "payment_method_details", dict), "latest_charge.payment_method_details")
        details = charge.get("payment_method_details") or {}
        _expect(_optional(details, "card", dict), "latest_charge.payment_method_details.card")
        card = details.get("card") or {}
        _expect(_optional(card, "brand", str) and _optional(card, "last4", str), "latest_charge.card")
    return event


def _malformed_record(payload: bytes, error: MalformedEvent) -> None:
    """Keep a trace staff can see (the webhook events list): which field, never the content.
    Keyed by the body's hash, so Stripe's retries of the same event add nothing."""
    digest = hashlib.sha256(payload).hexdigest()[:40]
    WebhookEvent.objects.get_or_create(gateway="stripe", event_id=f"malformed-{digest}",
                                       defaults={"type": f"malformed: {error}"[:80]})
    log.warning("stripe webhook refused: signed but malformed (%s)", error)


def stripe_webhook_handle(*, payload: bytes, signature: str) -> str:
    """Verify and apply one Stripe webhook. Raises ValueError on a bad signature/payload, and
    MalformedEvent (a ValueError) for a signed event without the fields it needs, recorded.

    The event id is claimed in the same transaction as its effect: a replay changes nothing,
    and an event whose handling failed is not marked handled (Stripe retries it)."""
    stripe.WebhookSignature.verify_header(payload, signature, settings.STRIPE_WEBHOOK_SECRET,
                                          stripe.Webhook.DEFAULT_TOLERANCE)
    try:
        event = stripe_event_parse(payload)
    except MalformedEvent as exc:
        _malformed_record(payload, exc)
        raise
    with transaction.atomic():
        if not services.webhook_event_claim(gateway="stripe", event_id=event["id"], type=event["type"]):
            return "duplicate"
        if event["type"].startswith("payment_intent."):
            stripe_apply_intent(event["data"]["object"])
            return "applied"
        if event["type"] in DISPUTE_EVENTS:
            _dispute_apply(event["type"], event["data"]["object"])
            return "applied"
    return "ignored"


def _dispute_apply(kind: str, dispute: dict) -> None:
    """A dispute is a legal hold on its order: nothing of it is erased or purged while it lasts.
    Keyed by the dispute's id, so the closing event lifts exactly the hold its opening placed."""
    intent_id = dispute.get("payment_intent") or ""
    source = f"stripe:{dispute.get('id') or intent_id}"
    if kind.endswith("closed"):
        legal_hold_lift_source(source=source, reason="the payment dispute was closed")
        return
    reference = Order.objects.filter(payments__intent_id=intent_id).values_list("reference", flat=True).first() \
        if intent_id else None
    if reference is None:
        log.warning("stripe dispute for an unknown payment: no hold placed")
        return
    legal_hold_place(terms=dispute_terms(dispute_id=dispute.get("id") or ""), placed_by=None,
                     order_reference=reference, source=source)
