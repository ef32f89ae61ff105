from __future__ import annotations

from django.db.models import QuerySet

from .models import Order
from .returns import refunded_total, returnable


def order_detail(*, reference: str) -> Order | None:
    return Order.objects.filter(reference=reference).first()


def orders_of(user) -> QuerySet[Order]:
    """A signed-in customer's orders, newest first."""
    return Order.objects.filter(user=user).order_by("-created_at")


def order_page_context(order: Order) -> dict:
    return {
        "lines": list(order.lines.all()),
        "history": list(order.status_changes.all()),
        "payment": order.payments.filter(status="succeeded").first(),
        "returns": list(order.returns.prefetch_related("lines__order_line")),
        "can_return": bool(returnable(order)),
        "refunded": refunded_total(order),
    }
