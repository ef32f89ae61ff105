"""Sales and visit statistics for staff (P9): aggregates that cannot single out a person.

k-anonymity. Every figure rests on the distinct people behind it: a registered customer counts
once, by user id; a guest once, by the blind index of their email (a guest order placed with the
email of a customer who also ordered signed in counts as that customer); orders whose person was
erased count together as one person. Each rule can only count fewer people than there are, never
more, so every error hides a figure rather than shows one. A figure resting on fewer than k people
(settings.PRIVACY_STATS_MIN_PEOPLE, default 5) is suppressed: its values are dropped here, before
any template, table or chart sees them, and staff read "fewer than k".

Complementary suppression. A hidden figure must not come back by subtraction. The sales figures
are kept to the margins of one table, days by products (with categories grouping products), over
one window: per day, per product, per category, the window's total; no figure inside the table
(a product on a day or in a week) is published. From margins alone, what can be worked out is only
sums of whole days or of whole products, never a part of a day or of a product. So the rule only
has to keep those sums at k people: the hidden days together (their total minus the shown days),
the hidden products of each shown category, the hidden categories together. When a sum rests on
fewer than k people, the next-smallest figure of its group is hidden too, until every group holds
(sales_by_product and protect). The returns share the window and split its orders in two (refunded,
kept): a margin again, under the same rule. tests/orders/test_statistics_property.py checks this
by exact linear algebra on random shops. Its limit: it holds for an observer who does not know
which products sold on which day; one who knows that a product did not sell on some days can
solve for more (the classic weakness of cell suppression against known empty cells).

Page views are counted with no identity at all (privacy.consent.analytics), so the people behind a
count cannot be known. A count is at least the number of people behind it, so the same threshold
and complement apply to the counts themselves: a day or product seen fewer than k times shows
"fewer than k".
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from privacy.models import DailyPageViews, DailyProductViews
from shop.models import Product

from .models import Order, OrderLine

SOLD = [Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.COMPLETED,
        Order.Status.REFUNDED]
WEEKS = 8  # the sales window: this week and the seven before it, whole weeks from Monday
VIEW_DAYS = 30
ERASED = "erased"


def min_people() -> int:
    """k: the fewest distinct people a published figure may rest on."""
    return max(int(getattr(settings, "PRIVACY_STATS_MIN_PEOPLE", 5)), 1)


def window_start() -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
    return timezone.make_aware(datetime.combine(monday, time.min))


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))  # SQLite sums decimals without their scale


def _day(value) -> date:
    return timezone.localdate(value) if isinstance(value, datetime) else value


# --- who is behind a cell -------------------------------------------------------------------------

def _people_by(qs, names: list[str], prefix: str = "") -> dict[tuple, set[str]]:
    """For each cell (the values of `names`), the distinct people behind it. One query for the
    (cell, person) pairs and, when guests are among them, one to find guests who are customers."""
    rows = list(qs.order_by().values_list(*names, f"{prefix}user_id", f"{prefix}email_index").distinct())
    guests = qs.filter(**{f"{prefix}user__isnull": True}).exclude(**{f"{prefix}email_index": ""}).order_by()
    owners = dict(Order.objects.filter(email_index__in=guests.values(f"{prefix}email_index"), user__isnull=False)
                  .order_by().values_list("email_index", "user_id")) if any(u is None for *_, u, _i in rows) else {}
    people: dict[tuple, set[str]] = defaultdict(set)
    for *key, uid, idx in rows:
        uid = uid or owners.get(idx)
        people[tuple(_day(k) for k in key)].add(f"u{uid}" if uid else f"g{idx}" if idx else ERASED)
    return people


def protect(*, cells: Iterable[Hashable], weight: Callable[[list], int], groups: Iterable[list],
            hidden: Iterable[Hashable] = (), k: int) -> set:
    """The cells to suppress: those resting on fewer than k (weight of the cell alone), the ones
    forced by `hidden`, and, group by group, the next-smallest cell until the hidden cells of
    every group together rest on at least k (weight of the group's hidden cells together).
    Repeats until no group changes, so a cell hidden for one group is counted in the others."""
    cells = list(cells)
    hidden = {c for c in cells if weight([c]) < k} | set(hidden)
    groups = [list(g) for g in groups]
    changed = True
    while changed:
        changed = False
        for group in groups:
            covered = [c for c in group if c in hidden]
            if not covered or weight(covered) >= k:
                continue
            shown = [c for c in group if c not in hidden]
            if shown:
                hidden.add(min(shown, key=lambda c: (weight([c]), str(c))))
                changed = True
    return hidden


def _by_people(people: dict) -> Callable[[list], int]:
    return lambda cs: len(set().union(*(people.get(c, set()) for c in cs)))


# --- sales ----------------------------------------------------------------------------------------

def _sold_orders():
    return Order.objects.filter(paid_at__gte=window_start(), status__in=SOLD)


def _sold_lines():
    return OrderLine.objects.filter(order__paid_at__gte=window_start(), order__status__in=SOLD)


def sales_per_day() -> dict:
    """Orders and revenue per day over the window, every day listed (a day without sales is 0).
    The days are one group (their total is shown), so hidden days together rest on k people."""
    k = min_people()
    orders = _sold_orders().annotate(day=TruncDay("paid_at"))
    figures = {(_day(r["day"]),): r for r in orders.order_by().values("day").annotate(orders=Count("pk"),
                                                                                        revenue=Sum("total"))}
    people = _people_by(orders, ["day"])
    first, today = window_start().date(), timezone.localdate()
    days = [(first + timedelta(days=i),) for i in range((today - first).days + 1)]
    weight = _by_people(people)
    sold = [d for d in days if d in figures]
    hidden = protect(cells=sold, weight=weight, groups=[sold], k=k)
    rows = []
    for d in days:
        r = figures.get(d)
        if d in hidden:
            rows.append({"day": d[0], "hidden": True, "orders": None, "revenue": None})
        else:
            rows.append({"day": d[0], "hidden": False, "orders": r["orders"] if r else 0,
                         "revenue": _money(r["revenue"]) if r else Decimal("0.00")})
    everyone = weight(sold)
    total = {"hidden": everyone < k and bool(sold),
             "orders": sum(figures[d]["orders"] for d in sold) if everyone >= k or not sold else None,
             "revenue": _money(sum(figures[d]["revenue"] for d in sold)) if everyone >= k or not sold else None}
    return {"rows": rows, "total": total, "any": bool(sold)}


def hide_products(*, people: dict[tuple, set], k: int) -> tuple[set, set]:
    """(hidden products, hidden categories) for products keyed (name, category) with the people
    behind each: the rule of sales_by_product, apart from the database so it can be checked alone."""
    weight = _by_people(people)
    categories: dict[str | None, list[tuple]] = defaultdict(list)
    for p in people:
        categories[p[1]].append(p)
    cat_weight = lambda cs: weight([p for c in cs for p in categories[c]])  # noqa: E731
    hidden_cats = {c for c in categories if cat_weight([c]) < k}
    hidden = {p for p in people if weight([p]) < k or p[1] in hidden_cats}
    changed = True
    while changed:
        changed = False
        for c, products in categories.items():
            covered = [p for p in products if p in hidden]
            shown = [p for p in products if p not in hidden]
            if c not in hidden_cats and covered and shown and weight(covered) < k:
                hidden.add(min(shown, key=lambda p: (weight([p]), str(p))))
                changed = True
        shown_cats = [c for c in categories if c not in hidden_cats]
        if hidden_cats and shown_cats and cat_weight(list(hidden_cats)) < k:
            smallest = min(shown_cats, key=lambda c: (cat_weight([c]), str(c)))
            hidden_cats.add(smallest)
            hidden.update(categories[smallest])
            changed = True
    return hidden, hidden_cats


def sales_by_product() -> dict:
    """Sales per product and per category over the window (best sellers first), protected together.

    These are the column margins of the (day x product) table whose row margins are the days: no
    cell inside that table is published, so what anyone can work out is only sums of whole days or
    of whole products. For products, that is: each product, each category, the window's total, and
    therefore for each shown category the sum of its hidden products, and the sum of all hidden
    categories. The rule keeps each of those at k people or hidden: a category under k hides its
    products; a shown category whose hidden products together rest on fewer than k hides its
    next-smallest product; hidden categories that together rest on fewer than k hide the
    next-smallest category, with its products."""
    k = min_people()
    cat = "product__category__name"
    lines = _sold_lines()
    figures = {(r["product_name"], r[cat]): r for r in lines.order_by().values("product_name", cat)
               .annotate(units=Sum("quantity"), revenue=Sum("line_total"))}
    people = _people_by(lines, ["product_name", cat], prefix="order__")
    hidden, hidden_cats = hide_products(people=people, k=k)
    categories: dict[str | None, list[tuple]] = defaultdict(list)
    for p in figures:
        categories[p[1]].append(p)
    products = sorted(({"product_name": n, "category": c, "units": f["units"], "revenue": _money(f["revenue"])}
                       for (n, c), f in figures.items() if (n, c) not in hidden),
                      key=lambda r: (-r["units"], -r["revenue"], r["product_name"]))
    by_category = sorted(({"name": c, "units": sum(figures[p]["units"] for p in ps),
                           "revenue": _money(sum(_money(figures[p]["revenue"]) for p in ps))}
                          for c, ps in categories.items() if c not in hidden_cats),
                         key=lambda r: (-r["revenue"], str(r["name"])))
    return {"by_product": products, "by_category": by_category,
            "hidden": {"by_product": len(hidden), "by_category": len(hidden_cats)}}


def returns_rate() -> dict:
    """Share of sold orders that were refunded (in part or whole) over the window. The refunded
    and the kept orders are two cells of one group whose sum (the window's orders) is shown; the
    same window as the days, so together they are margins of a (day x refunded) table again."""
    k = min_people()
    orders = _sold_orders()
    counts = dict(orders.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    people = _people_by(orders, ["status"])
    refunded_key, statuses = (Order.Status.REFUNDED,), list(people)
    cells = {"refunded": [s for s in statuses if s == refunded_key], "kept": [s for s in statuses if s != refunded_key]}
    cells = {name: keys for name, keys in cells.items() if keys}  # "no refund at all" is about nobody
    flat = {name: set().union(*(people[s] for s in keys)) for name, keys in cells.items()}
    weight = _by_people(flat)
    hidden = protect(cells=cells, weight=weight, groups=[list(cells)], k=k)
    sold = sum(counts.values())
    refunded = counts.get(Order.Status.REFUNDED, 0)
    if not sold:
        return {"sold": 0, "refunded": 0, "rate": None}
    everyone = weight(list(cells))
    return {"sold": sold if everyone >= k or not sold else None,
            "refunded": None if "refunded" in hidden or everyone < k else refunded,
            "rate": (Decimal(refunded) / sold * 100).quantize(Decimal("0.1"))
            if sold and "refunded" not in hidden and everyone >= k else None}


def low_stock(threshold: int | None = None, limit: int = 20) -> list[Product]:
    """Not about people: stock levels."""
    threshold = threshold if threshold is not None else settings.SHOP_LOW_STOCK
    return list(Product.objects.available().filter(stock__lte=threshold).select_related("category")
                .order_by("stock", "name")[:limit])


# --- page views (no identity: the count itself is the weight) ------------------------------------

def views_per_day() -> dict:
    k = min_people()
    first = timezone.localdate() - timedelta(days=VIEW_DAYS - 1)
    counts = {(r["day"],): r["views"] for r in DailyPageViews.objects.filter(day__gte=first).order_by()
              .values("day").annotate(views=Sum("views"))}
    weight = lambda cs: sum(counts.get(c, 0) for c in cs)  # noqa: E731
    seen = list(counts)
    hidden = protect(cells=seen, weight=weight, groups=[seen], k=k)
    days = [(first + timedelta(days=i),) for i in range(VIEW_DAYS)]
    rows = [{"day": d[0], "hidden": d in hidden, "views": None if d in hidden else counts.get(d, 0)} for d in days]
    total = weight(seen)
    return {"rows": rows, "total": {"hidden": 0 < total < k, "views": total if total >= k or not total else None},
            "any": bool(seen)}


def top_viewed_products(limit: int = 10) -> dict:
    k = min_people()
    counts = {r["name"]: r["views"] for r in DailyProductViews.objects.filter(
        day__gte=timezone.localdate() - timedelta(days=VIEW_DAYS - 1)).order_by()
        .values(name=F("product__name")).annotate(views=Sum("views"))}
    weight = lambda cs: sum(counts.get(c, 0) for c in cs)  # noqa: E731
    hidden = protect(cells=counts, weight=weight, groups=[list(counts)], k=k)
    rows = sorted(({"name": n, "views": v} for n, v in counts.items() if n not in hidden),
                  key=lambda r: (-r["views"], r["name"]))
    return {"rows": rows[:limit], "hidden": len(hidden)}


# --- charts: server-drawn SVG geometry (no script; attributes only, so the strict CSP holds) -----

def _nice_step(top: float, ticks: int = 4) -> float:
    raw = top / ticks
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def bar_chart(rows: list[dict], *, value: str, label: str, unit: str = "", k: int | None = None,
              width: int = 720, height: int = 260) -> dict:
    """Axes, ticks and bars for one series. A suppressed row (hidden) draws a short grey mark
    titled "fewer than k", never its value; a few bars get their value printed above them."""
    k = k or min_people()
    left, right, top, bottom = 64, 28, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((float(r[value]) for r in rows if not r.get("hidden") and r[value]), default=0.0)
    step = _nice_step(highest) if highest else 1.0
    y_max = step * max(1, -(-highest // step))
    n = max(len(rows), 1)
    slot = plot_w / n
    every = max(1, -(-n // 8))  # at most about eight labels under the x axis

    def fmt(v) -> str:
        return f"{unit}{v:,.0f}" if unit else f"{v:,.0f}"

    bars = []
    for i, r in enumerate(rows):
        x = left + i * slot + slot * 0.15
        w = max(slot * 0.7, 1)
        name = r[label].strftime("%-d %b") if isinstance(r[label], date) else str(r[label])
        if r.get("hidden"):
            bars.append({"x": round(x, 1), "w": round(w, 1), "y": top + plot_h - 3, "h": 3, "hidden": True,
                         "title": f"{name}: fewer than {k} people"})
            continue
        v = float(r[value] or 0)
        h = plot_h * v / y_max
        bars.append({"x": round(x, 1), "w": round(w, 1), "y": round(top + plot_h - h, 1), "h": round(h, 1),
                     "hidden": False, "title": f"{name}: {fmt(r[value]) if not unit else f'{unit}{r[value]}'}",
                     "text": fmt(r[value]) if n <= 14 and v else "", "text_x": round(x + w / 2, 1),
                     "text_y": round(top + plot_h - h - 4, 1)})
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": r[label].strftime("%-d %b")
               if isinstance(r[label], date) else str(r[label])} for i, r in enumerate(rows) if i % every == 0]
    ticks = [{"y": round(top + plot_h - plot_h * t * step / y_max, 1), "text": fmt(t * step)}
             for t in range(int(y_max / step) + 1)]
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top,
            "base": top + plot_h, "label_y": top + plot_h + 16, "axis_y": height - 6, "mid_x": left + plot_w / 2,
            "mid_y": top + plot_h / 2, "bars": bars, "labels": labels, "ticks": ticks}
