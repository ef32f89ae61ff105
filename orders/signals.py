"""A verified email brings the guest orders placed with it into the account (thin hook)."""
from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from . import services


@receiver(email_confirmed, dispatch_uid="orders.claim_guest_orders")
def claim_guest_orders(sender, request, email_address, **kwargs) -> None:
    services.orders_claim_guest(user=email_address.user, email=email_address.email)
