"""Which gateway takes the payment: Stripe when it is configured, else the offline one."""
from __future__ import annotations

from django.conf import settings

from .base import Gateway
from .offline import OfflineGateway
from .stripe_gateway import StripeGateway


def get_gateway() -> Gateway:
    return StripeGateway() if settings.PAYMENT_GATEWAY == "stripe" else OfflineGateway()
