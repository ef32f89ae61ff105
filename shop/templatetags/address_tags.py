"""{{ address|address_lines }}: the one address formatter (shop.addresses) for templates; works for an
address book entry and for an order's shipping address."""
from django import template

from shop.addresses import address_lines_of

register = template.Library()


@register.filter
def address_lines(obj) -> list[str]:
    return address_lines_of(obj)
