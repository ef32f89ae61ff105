"""Anonymous sales figures for staff (P9): aggregates over orders and lines, never a person.
Each function runs one aggregate query."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from privacy.models import DailyPageViews, DailyProductViews
from shop.models import Product

from .models import Order, OrderLine

SOLD = [Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.COMPLETED,
        Order.Status.REFUNDED]


def _since(days: int):
    return timezone.now() - timedelta(days=days)


def sales_per_day(days: int = 30) -> list[dict]:
    rows = (Order.objects.filter(paid_at__gte=_since(days), status__in=SOLD).annotate(day=TruncDay("paid_at"))
            .values("day").annotate(orders=Count("pk"), revenue=Sum("total")).order_by("day"))
    return [{"day": r["day"].date(), "orders": r["orders"], "revenue": _money(r["revenue"])} for r in rows]


def sales_per_week_by(field: str, weeks: int = 8, limit: int = 20) -> list[dict]:
    """field: "product_name" or "product__category__name"."""
    rows = (OrderLine.objects.filter(order__paid_at__gte=_since(weeks * 7), order__status__in=SOLD)
            .annotate(week=TruncWeek("order__paid_at")).values("week", field)
            .annotate(units=Sum("quantity"), revenue=Sum("line_total")).order_by("-week", "-revenue")[:limit * weeks])
    return [{"week": r["week"].date(), "name": r[field] or "—", "units": r["units"], "revenue": _money(r["revenue"])}
            for r in rows]


def best_sellers(days: int = 30, limit: int = 10) -> list[dict]:
    rows = (OrderLine.objects.filter(order__paid_at__gte=_since(days), order__status__in=SOLD)
            .values("product_name").annotate(units=Sum("quantity"), revenue=Sum("line_total")).order_by("-units")[:limit])
    return [{**r, "revenue": _money(r["revenue"])} for r in rows]


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))  # SQLite sums decimals without their scale


def low_stock(threshold: int | None = None, limit: int = 20) -> list[Product]:
    threshold = threshold if threshold is not None else settings.SHOP_LOW_STOCK
    return list(Product.objects.available().filter(stock__lte=threshold).select_related("category")
                .order_by("stock", "name")[:limit])


def returns_rate(days: int = 90) -> dict:
    """Share of sold orders that were refunded (in part or whole) over the period."""
    agg = Order.objects.filter(paid_at__gte=_since(days), status__in=SOLD).aggregate(
        sold=Count("pk"), refunded=Count("pk", filter=Q(status=Order.Status.REFUNDED)))
    sold, refunded = agg["sold"] or 0, agg["refunded"] or 0
    return {"sold": sold, "refunded": refunded, "rate": (Decimal(refunded) / sold * 100).quantize(Decimal("0.1"))
            if sold else Decimal("0")}


def views_per_day(days: int = 30) -> list[dict]:
    rows = (DailyPageViews.objects.filter(day__gte=timezone.localdate() - timedelta(days=days - 1))
            .values("day").annotate(views=Sum("views")).order_by("day"))
    return list(rows)


def top_viewed_products(days: int = 30, limit: int = 10) -> list[dict]:
    return list(DailyProductViews.objects.filter(day__gte=timezone.localdate() - timedelta(days=days - 1))
                .values(name=F("product__name")).annotate(views=Sum("views")).order_by("-views")[:limit])


def bars(rows: list[dict], value: str, label: str, width: int = 640, height: int = 160) -> dict:
    """Geometry for a server-drawn SVG bar chart (no script, no inline style)."""
    top = max((float(r[value]) for r in rows), default=0) or 1
    step = width / max(len(rows), 1)
    return {"width": width, "height": height, "bars": [
        {"x": round(i * step + 2, 1), "w": max(round(step - 4, 1), 1), "h": round(float(r[value]) / top * (height - 20), 1),
         "y": round(height - float(r[value]) / top * (height - 20), 1), "label": str(r[label]), "value": r[value]}
        for i, r in enumerate(rows)]}
