"""Sign-in hook: a guest cart joins the user's cart (thin; the work is in services)."""
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import selectors, services
from .models import Cart


@receiver(user_logged_in, dispatch_uid="shop.cart_merge_at_login")
def merge_guest_cart(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    cart_id = request.session.pop(selectors.CART_SESSION_KEY, None)
    if not isinstance(cart_id, int):
        return
    guest_cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first()
    if guest_cart is None:
        return
    for notice in services.cart_merge(guest_cart=guest_cart, user=user):
        messages.warning(request, notice)
