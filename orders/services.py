"""Order writes: placing an order, moving it through its statuses, recording payments.

Invariants kept here and nowhere else:
- prices and totals come from the database at the moment the order is placed, in USD;
  shipping and duties are always zero (the shop pays them);
- stock is taken with a conditional UPDATE inside the order's transaction, so it is never
  oversold, even with concurrent checkouts, and is given back when an unpaid order is cancelled;
- a status moves only along ALLOWED, each move is recorded, and customer emails are queued in
  the same transaction (outbox) so none is lost and none is sent for a change that rolled back.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from privacy.models import PolicyVersion
from privacy.protection import email_index
from shop.models import Cart, Product, User

from .models import Notification, Order, OrderLine, OrderStatusChange, Payment, WebhookEvent
from .notifications.outbox import notification_queue

log = logging.getLogger(__name__)

ALLOWED: dict[str, set[str]] = {
    Order.Status.PENDING_PAYMENT: {Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.SHIPPED, Order.Status.CANCELLED, Order.Status.REFUNDED},  # cancelled after payment: refund first
    Order.Status.SHIPPED: {Order.Status.DELIVERED, Order.Status.REFUNDED},
    Order.Status.DELIVERED: {Order.Status.COMPLETED, Order.Status.REFUNDED},
    Order.Status.COMPLETED: {Order.Status.REFUNDED},
    Order.Status.CANCELLED: set(),
    Order.Status.REFUNDED: set(),
}
TIMESTAMPS = {Order.Status.PAID: "paid_at", Order.Status.SHIPPED: "shipped_at", Order.Status.DELIVERED: "delivered_at",
              Order.Status.COMPLETED: "completed_at", Order.Status.CANCELLED: "cancelled_at"}
NOTIFY = {Order.Status.PAID: Notification.Kind.ORDER_CONFIRMED, Order.Status.SHIPPED: Notification.Kind.ORDER_SHIPPED,
          Order.Status.DELIVERED: Notification.Kind.ORDER_DELIVERED}


class CheckoutError(Exception):
    """The order cannot be placed; the message is shown to the shopper and nothing was written."""


class TransitionError(Exception):
    pass


@dataclass(frozen=True)
class ShippingDetails:
    email: str
    name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str
    phone: str = ""
    policy_version: str = ""


def cart_fingerprint(lines: list[tuple[int, int, Decimal]]) -> str:
    """What the shopper saw: product, quantity and price of each line. A checkout submitted
    against a different fingerprint (the cart or a price changed meanwhile) is refused."""
    raw = ";".join(f"{pid}:{qty}:{price}" for pid, qty, price in sorted(lines))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@transaction.atomic
def order_place(*, cart: Cart, customer: User | None, details: ShippingDetails, fingerprint: str) -> Order:
    """Turn a cart into an order awaiting payment; takes the stock; empties the cart."""
    items = list(cart.items.select_related("product").order_by("product_id"))
    if not items:
        raise CheckoutError("Your cart is empty.")
    seen = cart_fingerprint([(i.product_id, i.quantity, i.product.price) for i in items])
    if seen != fingerprint:
        raise CheckoutError("Your cart or a price changed while you were checking out. Please review it.")

    order = Order(
        user=customer if customer and customer.is_authenticated else None,
        email=details.email, email_index=email_index(details.email),
        shipping_name=details.name, shipping_line1=details.line1, shipping_line2=details.line2,
        shipping_city=details.city, shipping_postal_code=details.postal_code,
        shipping_region=details.region, shipping_country=details.country, phone=details.phone,
        subtotal=Decimal("0.00"), total=Decimal("0.00"),
        policy=PolicyVersion.objects.filter(version=details.policy_version, published_at__isnull=False).first(),
    )
    lines: list[OrderLine] = []
    for item in items:  # product id order: concurrent checkouts lock rows in the same order
        taken = Product.objects.filter(
            pk=item.product_id, is_active=True, stock__gte=item.quantity
        ).update(stock=F("stock") - item.quantity)
        if taken != 1:
            raise CheckoutError(
                f"Sorry, “{item.product.name}” no longer has {item.quantity} in stock. Your cart was kept."
            )
        price = Product.objects.values_list("price", flat=True).get(pk=item.product_id)
        lines.append(OrderLine(product_id=item.product_id, product_name=item.product.name,
                               unit_price=price, quantity=item.quantity, line_total=price * item.quantity))
    order.subtotal = order.total = sum((line.line_total for line in lines), Decimal("0.00"))
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    OrderStatusChange.objects.create(order=order, from_status="", to_status=Order.Status.PENDING_PAYMENT)
    cart.items.all().delete()
    return order


@transaction.atomic
def order_transition(*, order: Order, to: str, by: User | None = None, note: str = "", **fields) -> Order:
    """Move an order to `to`, if allowed; records history, stamps the time, queues emails."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if to not in ALLOWED[locked.status]:
        raise TransitionError(f"An order that is {locked.get_status_display().lower()} cannot become {to}.")
    previous = locked.status
    locked.status = to
    now = timezone.now()
    if to in TIMESTAMPS:
        setattr(locked, TIMESTAMPS[to], now)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", *([TIMESTAMPS[to]] if to in TIMESTAMPS else []), *fields])
    OrderStatusChange.objects.create(order=locked, from_status=previous, to_status=to, by=by, note=note[:200])
    if to == Order.Status.CANCELLED and previous == Order.Status.PENDING_PAYMENT:
        for line in locked.lines.all():
            if line.product_id:
                Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    if to in NOTIFY:
        notification_queue(kind=NOTIFY[to], order=locked)
    return locked


def order_mark_shipped(*, order: Order, carrier: str, tracking_number: str, by: User | None) -> Order:
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise TransitionError("A carrier and a tracking number are needed to mark an order shipped.")
    return order_transition(order=order, to=Order.Status.SHIPPED, by=by, carrier=carrier, tracking_number=tracking_number)


def order_mark_delivered(*, order: Order, by: User | None) -> Order:
    return order_transition(order=order, to=Order.Status.DELIVERED, by=by)


def order_cancel_unpaid(*, older_than_minutes: int | None = None) -> int:
    """Cancel orders left unpaid too long and give their stock back. Idempotent."""
    minutes = older_than_minutes if older_than_minutes is not None else settings.SHOP_UNPAID_ORDER_MINUTES
    cutoff = timezone.now() - timezone.timedelta(minutes=minutes)
    count = 0
    stale = Order.objects.filter(status=Order.Status.PENDING_PAYMENT, created_at__lt=cutoff).values_list("pk", flat=True)
    for pk in list(stale[:500]):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.status != Order.Status.PENDING_PAYMENT or order.payments.filter(
                status__in=[Payment.Status.SUCCEEDED, Payment.Status.PROCESSING]
            ).exists():
                continue
            order_transition(order=order, to=Order.Status.CANCELLED, note="Not paid in time")
            order.payments.filter(status=Payment.Status.PENDING).update(
                status=Payment.Status.CANCELLED, updated_at=timezone.now())
            count += 1
    return count


# --- payments -----------------------------------------------------------------------

def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


@transaction.atomic
def payment_record_outcome(
    *, intent_id: str, status: str, amount_received: Decimal | None = None,
    card_brand: str = "", card_last4: str = "", failure_message: str = "",
) -> Payment | None:
    """Apply what the gateway says about a payment. Safe to call any number of times and in
    any order: a succeeded payment never goes back, and the order is marked paid once."""
    payment = Payment.objects.select_for_update().select_related("order").filter(intent_id=intent_id).first()
    if payment is None:
        log.warning("payment outcome for an unknown intent ignored")
        return None
    if payment.status == Payment.Status.SUCCEEDED:
        return payment
    if status == Payment.Status.SUCCEEDED:
        received = amount_received if amount_received is not None else payment.amount
        if received != payment.amount or payment.order.total != payment.amount:
            log.error("payment %s amount mismatch; order not marked paid", payment.pk)
            payment.status = Payment.Status.FAILED
            payment.failure_message = "Amount mismatch"
        else:
            payment.status = Payment.Status.SUCCEEDED
            payment.amount_received = received
            payment.card_brand = card_brand[:20]
            payment.card_last4 = card_last4[-4:] if card_last4.isdigit() else ""
    elif status in {Payment.Status.PROCESSING, Payment.Status.FAILED, Payment.Status.CANCELLED}:
        payment.status = status
        payment.failure_message = failure_message[:200]
    payment.updated_at = timezone.now()
    payment.save()
    if payment.status == Payment.Status.SUCCEEDED:
        order = payment.order
        if order.status == Order.Status.PENDING_PAYMENT:
            order_transition(order=order, to=Order.Status.PAID, note=f"Paid via {payment.gateway}")
        elif order.status == Order.Status.CANCELLED:
            # Paid after the hold lapsed: staff must refund or re-take stock by hand.
            log.error("payment %s succeeded for cancelled order %s", payment.pk, order.pk)
    return payment


@transaction.atomic
def webhook_event_claim(*, gateway: str, event_id: str, type: str) -> bool:
    """Record an event id; False if it was already handled (a replay)."""
    _, created = WebhookEvent.objects.get_or_create(gateway=gateway, event_id=event_id, defaults={"type": type})
    return created


@transaction.atomic
def orders_claim_guest(*, user: User, email: str) -> int:
    """Once `user` has verified `email`, guest orders placed with it join their account
    (found through the blind index; nothing is decrypted)."""
    return Order.objects.filter(user__isnull=True, email_index=email_index(email)).update(user=user)
