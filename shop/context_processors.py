from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import selectors
from .models import CartItem, Category


def _cart_count(request) -> int:
    cart = selectors.cart_get(request)
    if cart is None:
        return 0
    return sum(CartItem.objects.filter(cart=cart).values_list("quantity", flat=True))


def shop(request):
    """Lazy values for the page frame: cost a query only when a template shows them."""
    return {
        "cart_count": SimpleLazyObject(lambda: _cart_count(request)),
        "nav_categories": SimpleLazyObject(lambda: list(Category.objects.all())),
        "currency": settings.SHOP_CURRENCY,
        "privacy_contact": settings.SHOP_PRIVACY_CONTACT,
    }
