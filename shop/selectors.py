"""Reads for the storefront; each returns querysets with a fixed number of queries."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest

from .models import Cart, CartItem, Category, Product

SORTS = {
    "name": ("Name", ["name", "pk"]),
    "price": ("Price: low to high", ["price", "pk"]),
    "-price": ("Price: high to low", ["-price", "pk"]),
    "newest": ("Newest", ["-created_at", "-pk"]),
}

CART_SESSION_KEY = "cart_id"


def product_list(*, category: Category | None = None, query: str = "", sort: str = "name") -> QuerySet[Product]:
    qs = Product.objects.available().select_related("category")
    if category is not None:
        qs = qs.filter(category=category)
    order = SORTS.get(sort, SORTS["name"])[1]
    if query.split() and connection.vendor == "postgresql":
        return _full_text(qs, query, sort, order)
    for word in query.split()[:8]:
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return qs.order_by(*order)


def _full_text(qs: QuerySet[Product], query: str, sort: str, order: list[str]) -> QuerySet[Product]:
    """PostgreSQL: every word must match (English stems, the last word also as a prefix, so
    results appear while typing), ranked with the name above the description."""
    words = re.findall(r"\w+", query)[:8]  # letters and digits only: no tsquery operators
    if not words:
        return qs.none()
    terms = [*words[:-1], f"{words[-1]}:*"]
    search = SearchQuery(" & ".join(terms), search_type="raw", config="english")
    qs = qs.filter(search_vector=search)
    if sort not in SORTS or sort == "name":  # the default order: best match first
        qs = qs.annotate(rank=SearchRank(F("search_vector"), search))
        order = ["-rank", *order]
    return qs.order_by(*order)


def cart_get(request: HttpRequest) -> Cart | None:
    """The current cart: the signed-in user's, or the guest cart named in the session."""
    if request.user.is_authenticated:
        return Cart.objects.filter(user=request.user).first()
    cart_id = request.session.get(CART_SESSION_KEY)
    if not isinstance(cart_id, int):
        return None
    return Cart.objects.filter(pk=cart_id, user__isnull=True).first()


def _cart_count_sql(where: str) -> str:
    # Plain SQL, built once: the count is on every page, and compiling the ORM's aggregate cost
    # a tenth of a signed-in page.
    return (f"SELECT SUM(i.quantity) FROM {CartItem._meta.db_table} i "
            f"JOIN {Cart._meta.db_table} c ON c.id = i.cart_id WHERE {where}")


CART_COUNT_SQL = {"user": _cart_count_sql("c.user_id = %s"),
                  "guest": _cart_count_sql("c.id = %s AND c.user_id IS NULL")}


def cart_count_column(*, user_column: str) -> str:
    """A signed-in user's cart count as a scalar subquery over `user_column` (no parameters), for
    a query that reads it with the user's row (shop.account.auth); its answer goes to
    remember_cart_count."""
    return f"({_cart_count_sql(f'c.user_id = {user_column}')})"


def remember_cart_count(request: HttpRequest, *, user_id: int, count: int | None) -> None:
    """Keep a signed-in user's cart count read during this request by another query."""
    request._cart_count_read = (user_id, count or 0)


def cart_count(request: HttpRequest) -> int:
    """Units in the current cart (the one cart_get finds), in one query, none without a cart, and
    none when the signed-in user's count was read with their row for this request (for that
    user only: a sign-in or out during the request asks again)."""
    if request.user.is_authenticated:
        read = getattr(request, "_cart_count_read", None)
        if read is not None and read[0] == request.user.pk:
            return read[1]
        sql, param = CART_COUNT_SQL["user"], request.user.pk
    else:
        cart_id = request.session.get(CART_SESSION_KEY)
        if not isinstance(cart_id, int):
            return 0
        sql, param = CART_COUNT_SQL["guest"], cart_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        return cursor.fetchone()[0] or 0


@dataclass(frozen=True)
class CartLine:
    item: CartItem
    product: Product
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def over_stock(self) -> bool:
        return self.quantity > self.product.stock or not self.product.is_active


@dataclass(frozen=True)
class CartView:
    lines: list[CartLine]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def has_problems(self) -> bool:
        return any(line.over_stock for line in self.lines)


def cart_view(cart: Cart | None) -> CartView:
    if cart is None:
        return CartView(lines=[])
    items = cart.items.select_related("product", "product__category").order_by("pk")
    return CartView(
        lines=[CartLine(item=i, product=i.product, quantity=i.quantity, unit_price=i.product.price) for i in items]
    )
