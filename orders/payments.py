"""One payment interface, two gateways.

- StripeGateway: a PaymentIntent created server-side with an idempotency key; the card is
  entered in Stripe Elements on the page, so card data never reaches our server. We keep the
  intent id, status, amount, and at most the card brand and last four digits.
- OfflineGateway: used when no Stripe keys are set (the local default and tests), so the shop
  can take an order without a network. It asks for no card data at all.

What Stripe receives from us is the amount, the currency and the order reference, nothing
about the person (see orders.personal_data / the processor registry).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field

import stripe
from django.conf import settings
from django.db import transaction

from config.middleware import unstorable
from privacy.processors.disclosure import disclose

from . import services
from .models import Order, Payment, WebhookEvent

log = logging.getLogger(__name__)


class PaymentError(Exception):
    """The gateway could not be reached or refused; the message is safe to show."""


@dataclass
class PaymentStart:
    payment: Payment
    client_secret: str = ""
    extra: dict = field(default_factory=dict)


class Gateway:
    name: str

    def start(self, *, order: Order) -> PaymentStart:  # pragma: no cover - interface
        raise NotImplementedError

    def refresh(self, *, payment: Payment) -> Payment:  # pragma: no cover - interface
        raise NotImplementedError

    def refund(self, *, payment: Payment, amount, idempotency_key: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class OfflineGateway(Gateway):
    name = "offline"

    @transaction.atomic
    def start(self, *, order: Order) -> PaymentStart:
        payment = order.payments.filter(gateway=self.name, status=Payment.Status.PENDING).first()
        if payment is None:
            payment = Payment.objects.create(
                order=order, gateway=self.name, intent_id=f"offline_{secrets.token_hex(12)}",
                amount=order.total, currency=order.currency,
            )
        return PaymentStart(payment=payment)

    def confirm(self, *, payment: Payment) -> Payment | None:
        return services.payment_record_outcome(
            intent_id=payment.intent_id, status=Payment.Status.SUCCEEDED, amount_received=payment.amount,
            card_brand="test", card_last4="0000",
        )

    def refresh(self, *, payment: Payment) -> Payment:
        return payment

    def refund(self, *, payment: Payment, amount, idempotency_key: str) -> str:
        import hashlib

        return "offline_re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]


# What the PaymentIntent carries (amount, currency, metadata.order_reference, description):
STRIPE_INTENT_FIELDS = ["order.total", "order.currency", "order.reference"]


def stripe_client() -> stripe.StripeClient:
    kwargs: dict = {"max_network_retries": 2}
    if settings.STRIPE_API_BASE:  # a local fake Stripe in tests
        kwargs.update(base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=0)
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **kwargs)


def _as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _card_details(intent: dict) -> tuple[str, str]:
    """Brand and last four from the intent's charge, if the gateway tells us (never more)."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):  # not expanded (webhooks): just an id
        return "", ""
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    return str(card.get("brand") or ""), str(card.get("last4") or "")


class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self, client: stripe.StripeClient | None = None):
        self.client = client or stripe_client()

    def start(self, *, order: Order) -> PaymentStart:
        existing = order.payments.filter(gateway=self.name).exclude(
            status__in=[Payment.Status.FAILED, Payment.Status.CANCELLED]).first()
        attempt = order.payments.filter(gateway=self.name).count()
        try:
            if existing is not None:
                intent = self.client.v1.payment_intents.retrieve(existing.intent_id)
                return PaymentStart(payment=existing, client_secret=intent.client_secret)
            params = {
                "amount": services.to_cents(order.total),
                "currency": "usd",
                "payment_method_types": ["card"],
                "metadata": {"order_reference": order.reference},
                "description": f"Order {order.reference}",
            }
            if order.user_id:
                params["customer"] = self._customer_for(order.user)
            intent = self.client.v1.payment_intents.create(
                params=params,
                # Same order, same attempt → same intent, however often the page is reloaded.
                options={"idempotency_key": f"order-{order.reference}-intent-{attempt}"},
            )
        except stripe.StripeError as exc:
            log.warning("stripe intent creation failed: %s", type(exc).__name__)
            raise PaymentError("The payment service is not answering right now. Please try again in a moment.") from exc
        payment, created = Payment.objects.get_or_create(
            intent_id=intent.id,
            defaults={"order": order, "gateway": self.name, "amount": order.total, "currency": order.currency},
        )
        if created:
            disclose(processor="stripe", fields=STRIPE_INTENT_FIELDS, subject_user_id=order.user_id,
                     guest_index=order.email_index, reference=order.reference)
        return PaymentStart(payment=payment, client_secret=intent.client_secret)

    def _customer_for(self, user) -> str:
        """A registered customer's Stripe customer: it holds only our internal reference, so
        saved payment details can be reused, and it is deleted when the account is erased."""
        if user.stripe_customer_id:
            return user.stripe_customer_id
        customer = self.client.v1.customers.create(
            params={"metadata": {"shop_user": str(user.pk)}},
            options={"idempotency_key": f"user-{user.pk}-customer"})
        type(user).objects.filter(pk=user.pk).update(stripe_customer_id=customer.id)
        user.stripe_customer_id = customer.id
        disclose(processor="stripe", fields=["user.reference"], subject_user_id=user.pk,
                 purpose="A customer record for your card payments")
        return customer.id

    def refund(self, *, payment: Payment, amount, idempotency_key: str) -> str:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment.intent_id, "amount": services.to_cents(amount)},
                options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            log.warning("stripe refund failed: %s", type(exc).__name__)
            raise PaymentError("The payment service could not refund just now; try again in a moment.") from exc
        return refund.id

    def refresh(self, *, payment: Payment) -> Payment:
        """Ask Stripe for the intent's status (after the redirect back from confirmation)."""
        try:
            intent = self.client.v1.payment_intents.retrieve(payment.intent_id, params={"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            raise PaymentError("We could not check your payment just now. Please reload this page.") from exc
        return stripe_apply_intent(intent) or payment


def stripe_apply_intent(intent) -> Payment | None:
    """Record what a PaymentIntent (from the API or a webhook) says about our payment."""
    intent = _as_dict(intent)
    status = {
        "succeeded": Payment.Status.SUCCEEDED,
        "processing": Payment.Status.PROCESSING,
        "canceled": Payment.Status.CANCELLED,
        "requires_payment_method": Payment.Status.FAILED if intent.get("last_payment_error") else None,
    }.get(intent.get("status"))
    if status is None:
        return None
    brand, last4 = _card_details(intent)
    error = intent.get("last_payment_error") or {}
    return services.payment_record_outcome(
        intent_id=intent["id"], status=status,
        amount_received=services.from_cents(int(intent.get("amount_received") or 0))
        if status == Payment.Status.SUCCEEDED else None,
        card_brand=brand, card_last4=last4,
        failure_message=str(error.get("message") or "") if isinstance(error, dict) else "",
    )


def stripe_customer_delete(*, customer_id: str) -> str:
    """Ask Stripe to delete a customer (P16); returns the outcome to record."""
    if not settings.STRIPE_SECRET_KEY:
        return "no Stripe account configured; nothing held"
    try:
        result = stripe_client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError:
        return "already deleted at Stripe"
    except stripe.StripeError as exc:
        log.warning("stripe customer deletion failed: %s", type(exc).__name__)
        return f"failed ({type(exc).__name__}); retry by hand"
    return "deleted" if getattr(result, "deleted", False) else "not confirmed"


def get_gateway() -> Gateway:
    return StripeGateway() if settings.PAYMENT_GATEWAY == "stripe" else OfflineGateway()


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
            # A dispute is a legal hold: the order's data must not be purged while it lasts.
            intent_id = event["data"]["object"].get("payment_intent") or ""
            hold = "payment dispute" if event["type"].endswith("created") else ""
            Order.objects.filter(payments__intent_id=intent_id).update(legal_hold=hold)
            return "applied"
    return "ignored"
