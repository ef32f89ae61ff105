"""What can still be returned, by when, and how much was refunded: reads only."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from orders.models import Order, Refund, ReturnLine, ReturnRequest


def return_deadline(order: Order):
    return order.delivered_at + timedelta(days=settings.SHOP_RETURN_DAYS) if order.delivered_at else None


def returnable(order: Order) -> dict[int, int]:
    """Order line id → how many units can still be returned."""
    if order.status not in (Order.Status.DELIVERED, Order.Status.COMPLETED) or order.anonymised_at:
        return {}
    deadline = return_deadline(order)
    if deadline is None or timezone.now() > deadline:
        return {}
    taken = dict(ReturnLine.objects.filter(order_line__order=order).exclude(
        return_request__status__in=[ReturnRequest.Status.REFUSED, ReturnRequest.Status.CANCELLED]).values("order_line").annotate(
        n=Sum("quantity")).values_list("order_line", "n"))
    return {line.pk: line.quantity - taken.get(line.pk, 0) for line in order.lines.all()
            if line.quantity - taken.get(line.pk, 0) > 0}


def refunded_total(order: Order) -> Decimal:
    total = Refund.objects.filter(order=order, status="succeeded").aggregate(s=Sum("amount"))["s"] or 0
    return Decimal(total).quantize(Decimal("0.01"))  # SQLite sums decimals without their scale
