"""Cart writes. Every function keeps one invariant: a cart line never asks for more than
the product's stock at the moment of the change, and never for less than one unit."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from privacy.models import PolicyVersion

from .models import Address, Cart, CartItem, Product, User


class CartError(Exception):
    """A change to the cart that cannot be made; the message is shown to the shopper."""


def _available_product(product_id: int) -> Product:
    try:
        return Product.objects.available().get(pk=product_id)
    except Product.DoesNotExist:
        raise CartError("This product is no longer available.") from None


def _check_quantity(product: Product, quantity: int) -> None:
    if quantity < 1:
        raise CartError("The quantity must be at least 1.")
    limit = min(product.stock, settings.SHOP_MAX_QUANTITY_PER_LINE)
    if product.stock == 0:
        raise CartError(f"“{product.name}” is out of stock.")
    if quantity > limit:
        raise CartError(f"Only {limit} of “{product.name}” can be ordered; you asked for {quantity}.")


def cart_for_user(*, user: User) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def _line_add_sql() -> str:
    # One statement adds to the line or starts it (SQLite 3.35+ and PostgreSQL): the database
    # adds up under its own lock, so two adds at once never lose a unit.
    table = CartItem._meta.db_table
    return (f"INSERT INTO {table} (cart_id, product_id, quantity) VALUES (%s, %s, %s) "
            f"ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = {table}.quantity + excluded.quantity "
            "RETURNING id, quantity")


LINE_ADD_SQL = _line_add_sql()


def _quick_add_sql(cart_is: str) -> str:
    # The whole of cart_add's success path in one statement (SQLite 3.35+ and PostgreSQL): the
    # row to insert exists only if the cart is the visitor's, the product is available and the
    # quantity fits its stock and the per-line limit; a line already there grows only if its new
    # total still fits (checked under the line's lock, so two adds at once never pass the stock).
    item, cart, product = CartItem._meta.db_table, Cart._meta.db_table, Product._meta.db_table
    return (f"INSERT INTO {item} (cart_id, product_id, quantity) "
            f"SELECT c.id, p.id, %(q)s FROM {cart} c, {product} p WHERE {cart_is} AND p.id = %(product)s "
            "AND p.is_active AND %(q)s >= 1 AND %(q)s <= p.stock AND %(q)s <= %(limit)s "
            f"ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = {item}.quantity + excluded.quantity "
            f"WHERE {item}.quantity + excluded.quantity <= %(limit)s AND {item}.quantity + excluded.quantity <= "
            f"(SELECT sp.stock FROM {product} sp WHERE sp.id = excluded.product_id) "
            f"RETURNING cart_id, quantity, (SELECT np.name FROM {product} np WHERE np.id = product_id)")


QUICK_ADD_SQL = {"user": _quick_add_sql("c.user_id = %(owner)s"),
                 "guest": _quick_add_sql("c.id = %(owner)s AND c.user_id IS NULL")}
CART_TOUCH_SQL = f"UPDATE {Cart._meta.db_table} SET updated_at = %s WHERE id = %s"
# PostgreSQL: the cart's time in the same statement (a data-modifying WITH, which SQLite lacks).
QUICK_ADD_AND_TOUCH_SQL = {
    owner: (f"WITH line AS ({sql}), touched AS (UPDATE {Cart._meta.db_table} SET updated_at = %(now)s "
            "WHERE id IN (SELECT cart_id FROM line)) SELECT * FROM line")
    for owner, sql in QUICK_ADD_SQL.items()}


@dataclass(frozen=True)
class Added:
    product_name: str
    quantity: int  # the line's new total


def cart_add_quick(*, user_id: int | None = None, cart_id: int | None = None, product_id: int,
                   quantity: int) -> Added | None:
    """cart_add's usual case in two statements and no transaction (the line, then the cart's
    updated_at; one statement on PostgreSQL), for the signed-in user's cart (`user_id`) or a guest's (`cart_id`, a cart that
    belongs to no account). Same invariant as cart_add: nothing is written unless the line's new
    total fits the product's stock and the per-line limit. None when nothing was added (no such
    cart, product not available, too many): cart_add then says why, or adds to a new cart."""
    owner = user_id if user_id is not None else cart_id
    if owner is None:
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"owner": owner, "product": product_id, "q": quantity, "limit": settings.SHOP_MAX_QUANTITY_PER_LINE}
    kind = "user" if user_id is not None else "guest"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(QUICK_ADD_AND_TOUCH_SQL[kind], {**params, "now": now})
            row = cursor.fetchone()
        else:
            cursor.execute(QUICK_ADD_SQL[kind], params)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(CART_TOUCH_SQL, [now, row[0]])
    return None if row is None else Added(product_name=row[2], quantity=row[1])


@transaction.atomic
def cart_add(*, cart: Cart, product_id: int, quantity: int) -> CartItem:
    """Add `quantity` units; the line's total must stay within stock. The line is written in one
    statement that returns its new total; a total over the limit rolls the addition back."""
    try:
        product = Product.objects.available().only("id", "name", "stock").get(pk=product_id)
    except Product.DoesNotExist:
        raise CartError("This product is no longer available.") from None
    with connection.cursor() as cursor:
        cursor.execute(LINE_ADD_SQL, [cart.pk, product.pk, quantity])
        item_id, total = cursor.fetchone()
    _check_quantity(product, total)  # raises: the atomic block undoes the write
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return CartItem(pk=item_id, cart=cart, product=product, quantity=total)


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product_id: int, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes the line."""
    if quantity == 0:
        cart_remove(cart=cart, product_id=product_id)
        return None
    product = _available_product(product_id)
    _check_quantity(product, quantity)
    item, _ = CartItem.objects.update_or_create(cart=cart, product=product, defaults={"quantity": quantity})
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return item


@transaction.atomic
def cart_remove(*, cart: Cart, product_id: int) -> None:
    CartItem.objects.filter(cart=cart, product_id=product_id).delete()
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


@transaction.atomic
def cart_merge(*, guest_cart: Cart, user: User) -> list[str]:
    """Move a guest cart's lines into the user's cart at sign-in, then delete the guest cart.

    Quantities add up, capped at stock; returns a notice for every line that was capped.
    """
    notices: list[str] = []
    if guest_cart.user_id is not None:
        return notices
    target = cart_for_user(user=user)
    existing = {i.product_id: i for i in target.items.select_for_update()}
    for item in guest_cart.items.select_related("product"):
        product = item.product
        wanted = item.quantity + (existing[product.pk].quantity if product.pk in existing else 0)
        limit = min(product.stock, settings.SHOP_MAX_QUANTITY_PER_LINE) if product.is_active else 0
        quantity = min(wanted, limit)
        if quantity < wanted:
            notices.append(f"“{product.name}”: only {limit} available, your cart was adjusted.")
        if quantity <= 0:
            CartItem.objects.filter(cart=target, product=product).delete()
            continue
        CartItem.objects.update_or_create(cart=target, product=product, defaults={"quantity": quantity})
    guest_cart.delete()
    Cart.objects.filter(pk=target.pk).update(updated_at=timezone.now())
    return notices


# --- the customer's account ------------------------------------------------------------

ADDRESS_FIELDS = ("label", "name", "line1", "line2", "city", "postal_code", "region", "country", "phone")


@transaction.atomic
def account_confirm_adult(*, user: User, policy_version: str = "") -> None:
    """Record the 18+ confirmation and the privacy policy version the sign-up form showed."""
    policy = PolicyVersion.objects.filter(version=policy_version, published_at__isnull=False).first()
    User.objects.filter(pk=user.pk).update(adult_confirmed_at=timezone.now(), signup_policy=policy)


@transaction.atomic
def profile_update(*, user: User, name: str, phone: str) -> User:
    user.name, user.phone = name.strip(), phone.strip()
    user.save(update_fields=["name", "phone"])
    return user


@transaction.atomic
def address_save(*, user: User, data: dict, address: Address | None = None) -> Address:
    """Create or update an address of `user`; the first one, or one marked default, becomes
    the only default."""
    make_default = bool(data.get("is_default")) or not Address.objects.filter(user=user).exclude(
        pk=getattr(address, "pk", None)).exists()
    if make_default:
        Address.objects.filter(user=user, is_default=True).exclude(pk=getattr(address, "pk", None)).update(
            is_default=False)
    address = address or Address(user=user)
    for name in ADDRESS_FIELDS:
        setattr(address, name, (data.get(name) or "").strip())
    address.is_default = make_default or address.is_default
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    user_id, was_default = address.user_id, address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user_id=user_id).order_by("pk").first()
        if successor:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


@transaction.atomic
def address_make_default(*, address: Address) -> None:
    Address.objects.filter(user_id=address.user_id, is_default=True).update(is_default=False)
    address.is_default = True
    address.save(update_fields=["is_default"])
