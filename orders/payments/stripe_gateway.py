"""A PaymentIntent created server-side with an idempotency key; the card is entered in Stripe
Elements on the page, so card data never reaches our server. We keep the intent id, status,
amount, and at most the card brand and last four digits. Stripe receives the amount, the
currency and the order reference, nothing about the person (see orders.personal_data)."""
from __future__ import annotations

import logging

import stripe
from django.conf import settings

from orders import services
from orders.models import Order, Payment
from privacy.processors import disclose

from .base import Gateway, PaymentError, PaymentStart

log = logging.getLogger(__name__)


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
