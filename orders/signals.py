"""Thin hooks: a verified email brings the guest orders placed with it into the account; and
what a browser session remembers for a guest is forgotten when anyone signs in or out."""
from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import services
from .views import GUEST_ORDERS_KEY

# Session keys that let this browser open a guest's orders, conversations and data export
# without signing in. Django keeps session data across login (it only cycles the key), so the
# next person to sign in on a shared computer would otherwise see the guest's name and address.
# "guest_exports" is set by privacy.views; listed here so one receiver forgets all of them.
GUEST_SESSION_KEYS = (GUEST_ORDERS_KEY, "support_threads", "guest_exports")


@receiver(email_confirmed, dispatch_uid="orders.claim_guest_orders")
def claim_guest_orders(sender, request, email_address, **kwargs) -> None:
    services.orders_claim_guest(user=email_address.user, email=email_address.email)


@receiver(user_logged_in, dispatch_uid="orders.forget_guest_at_login")
@receiver(user_logged_out, dispatch_uid="orders.forget_guest_at_logout")
def forget_guest_session(sender, request, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    for key in GUEST_SESSION_KEYS:
        request.session.pop(key, None)
