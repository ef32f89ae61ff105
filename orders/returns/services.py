"""Returns and refunds, the writes (P7): the customer asks to return lines with a reason; staff
approve or refuse (with a reason); on receipt the goods are restocked and the refund goes
through the payment gateway with an idempotency key, so a refund replayed any number of times
refunds once. Order totals never change: refunds are recorded beside them, and an order becomes
"refunded" only when all of it was refunded. The customer is emailed at each step."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders.models import Notification, Order, Payment, Refund, ReturnLine, ReturnRequest
from orders.notifications.outbox import notification_queue
from orders.payments import PaymentError, get_gateway
from orders.services import order_transition
from shop.models import Product

from .selectors import refunded_total, returnable


class ReturnError(Exception):
    """Shown to the person as it is; nothing was changed."""


@transaction.atomic
def return_request_create(*, order: Order, quantities: dict[int, int], reason: str) -> ReturnRequest:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    available = returnable(locked)
    if not available:
        raise ReturnError("This order can no longer be returned (the return window is "
                          f"{settings.SHOP_RETURN_DAYS} days from delivery).")
    wanted = {int(k): int(v) for k, v in quantities.items() if int(v) > 0}
    if not wanted:
        raise ReturnError("Choose at least one item to return.")
    for line_id, qty in wanted.items():
        if line_id not in available or qty > available[line_id]:
            raise ReturnError("You asked to return more items than you can.")
    reason = reason.strip()
    if not reason:
        raise ReturnError("Tell us briefly why you are returning the items.")
    request = ReturnRequest.objects.create(order=locked, reason=reason[:1000])
    ReturnLine.objects.bulk_create(ReturnLine(return_request=request, order_line_id=k, quantity=v)
                                   for k, v in wanted.items())
    notification_queue(kind=Notification.Kind.RETURN_REQUESTED, order=locked, ref=request.pk)
    return request


def _locked(request: ReturnRequest) -> ReturnRequest:
    return ReturnRequest.objects.select_for_update().select_related("order").get(pk=request.pk)


@transaction.atomic
def return_approve(*, request: ReturnRequest, by) -> ReturnRequest:
    req = _locked(request)
    if req.status != ReturnRequest.Status.REQUESTED:
        raise ReturnError(f"This return is {req.get_status_display().lower()}; it cannot be approved now.")
    req.status, req.decided_at = ReturnRequest.Status.APPROVED, timezone.now()
    req.save(update_fields=["status", "decided_at"])
    notification_queue(kind=Notification.Kind.RETURN_APPROVED, order=req.order, ref=req.pk)
    return req


@transaction.atomic
def return_refuse(*, request: ReturnRequest, by, reason: str) -> ReturnRequest:
    req = _locked(request)
    if req.status != ReturnRequest.Status.REQUESTED:
        raise ReturnError("Only a new return request can be refused.")
    if not reason.strip():
        raise ReturnError("A refusal needs a reason; the customer is told it.")
    req.status, req.decided_at, req.refusal_reason = ReturnRequest.Status.REFUSED, timezone.now(), reason.strip()[:300]
    req.save(update_fields=["status", "decided_at", "refusal_reason"])
    notification_queue(kind=Notification.Kind.RETURN_REFUSED, order=req.order, ref=req.pk)
    return req


@transaction.atomic
def return_receive(*, request: ReturnRequest, by) -> ReturnRequest:
    """The parcel is back: restock and start the refund clock."""
    req = _locked(request)
    if req.status != ReturnRequest.Status.APPROVED:
        raise ReturnError("Only an approved return can be received.")
    now = timezone.now()
    req.status, req.received_at = ReturnRequest.Status.RECEIVED, now
    req.refund_due_at = now + timedelta(days=settings.SHOP_REFUND_DAYS)
    req.save(update_fields=["status", "received_at", "refund_due_at"])
    for line in req.lines.select_related("order_line"):
        if line.order_line.product_id:
            Product.objects.filter(pk=line.order_line.product_id).update(stock=F("stock") + line.quantity)
    notification_queue(kind=Notification.Kind.RETURN_RECEIVED, order=req.order, ref=req.pk)
    return req


def refund_issue(*, request: ReturnRequest, by=None) -> Refund:
    """Refund a received return through the gateway. Replays are harmless: the Refund row and
    the gateway's idempotency key both carry "return-<id>", so the money moves once."""
    with transaction.atomic():
        req = _locked(request)
        if req.status not in (ReturnRequest.Status.RECEIVED, ReturnRequest.Status.REFUNDED):
            raise ReturnError("Refunds are issued once the returned items are received.")
        amount = sum((ln.order_line.unit_price * ln.quantity for ln in req.lines.select_related("order_line")),
                     Decimal("0.00"))
        payment = req.order.payments.filter(status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise ReturnError("This order has no successful payment to refund.")
        refund, _ = Refund.objects.get_or_create(
            return_request=req, defaults={"order": req.order, "amount": amount, "gateway": payment.gateway,
                                          "idempotency_key": f"return-{req.pk}"})
    if refund.status == "succeeded":
        return refund
    try:
        provider_ref = get_gateway().refund(payment=payment, amount=refund.amount, idempotency_key=refund.idempotency_key)
    except PaymentError as exc:
        Refund.objects.filter(pk=refund.pk).update(status="failed")
        raise ReturnError(str(exc)) from exc
    with transaction.atomic():
        Refund.objects.filter(pk=refund.pk).update(status="succeeded", provider_ref=provider_ref)
        ReturnRequest.objects.filter(pk=req.pk).update(status=ReturnRequest.Status.REFUNDED, refunded_at=timezone.now())
        order = Order.objects.select_for_update().get(pk=req.order_id)
        if refunded_total(order) >= order.total and order.status != Order.Status.REFUNDED:
            order_transition(order=order, to=Order.Status.REFUNDED, by=by, note="Fully refunded")
        notification_queue(kind=Notification.Kind.REFUND_ISSUED, order=order, ref=req.pk)
    refund.refresh_from_db()
    return refund



def order_refund_in_full(*, order: Order, by=None) -> Refund:
    """Give back everything paid for a paid order that will never ship, because its shipping details
    were erased while it was open (a guardian's erasure request for a minor), restock its lines
    and close it as Refunded. Replays are harmless: the Refund row and the gateway's idempotency key
    both carry "order-<id>", so the money moves once. Raises ReturnError, nothing changed, for an
    order that still has its shipping details or is not paid and unshipped."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == Order.Status.REFUNDED:
            return Refund.objects.get(idempotency_key=f"order-{locked.pk}")
        if locked.status != Order.Status.PAID or locked.anonymised_at is None:
            raise ReturnError("Only a paid order whose shipping details were erased is refunded in full here; "
                              "other refunds go through a return.")
        payment = locked.payments.filter(status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise ReturnError("This order has no successful payment to refund.")
        refund, _ = Refund.objects.get_or_create(
            idempotency_key=f"order-{locked.pk}", defaults={"order": locked, "amount": locked.total,
                                                           "gateway": payment.gateway})
    if refund.status != "succeeded":
        try:
            provider_ref = get_gateway().refund(payment=payment, amount=refund.amount,
                                                idempotency_key=refund.idempotency_key)
        except PaymentError as exc:
            Refund.objects.filter(pk=refund.pk).update(status="failed")
            raise ReturnError(str(exc)) from exc
        Refund.objects.filter(pk=refund.pk).update(status="succeeded", provider_ref=provider_ref)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.REFUNDED:
            for line in locked.lines.all():
                if line.product_id:
                    Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
            order_transition(order=locked, to=Order.Status.REFUNDED, by=by,
                             note="Refunded in full: shipping details erased before shipment")
    refund.refresh_from_db()
    return refund
