"""What the personal center (shop.account) shows of a customer's orders: orders sits above shop,
so the center's template asks here instead of shop importing orders."""
from django import template

from orders import selectors

register = template.Library()


@register.inclusion_tag("orders/_recent_orders.html")
def recent_orders(user, limit: int = 3) -> dict:
    return {"recent_orders": list(selectors.orders_of(user)[:limit])}
