"""One payment interface (base), two gateways (offline, stripe_gateway), the choice (gateway)
and Stripe's webhooks. The names below are the package's public API.

- StripeGateway: a PaymentIntent created server-side with an idempotency key; the card is
  entered in Stripe Elements on the page, so card data never reaches our server. We keep the
  intent id, status, amount, and at most the card brand and last four digits.
- OfflineGateway: used when no Stripe keys are set (the local default and tests), so the shop
  can take an order without a network. It asks for no card data at all.

What Stripe receives from us is the amount, the currency and the order reference, nothing
about the person (see orders.personal_data / the processor registry).
"""
from .base import Gateway, PaymentError, PaymentStart
from .gateway import get_gateway
from .offline import OfflineGateway
from .stripe_gateway import (
           StripeGateway,
           stripe_apply_intent,
           stripe_client,
           stripe_customer_delete,
)
from .webhooks import MalformedEvent, stripe_event_parse, stripe_webhook_handle

__all__ = ["Gateway", "MalformedEvent", "OfflineGateway", "PaymentError", "PaymentStart", "StripeGateway",
           "get_gateway", "stripe_apply_intent", "stripe_client", "stripe_customer_delete", "stripe_event_parse",
           "stripe_webhook_handle"]
