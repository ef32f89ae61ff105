from __future__ import annotations

from .models import Order


def order_detail(*, reference: str) -> Order | None:
    return Order.objects.filter(reference=reference).first()


def order_page_context(order: Order) -> dict:
    from .returns import refunded_total, returnable

    return {
        "lines": list(order.lines.all()),
        "history": list(order.status_changes.all()),
        "payment": order.payments.filter(status="succeeded").first(),
        "returns": list(order.returns.prefetch_related("lines__order_line")),
        "can_return": bool(returnable(order)),
        "refunded": refunded_total(order),
    }
