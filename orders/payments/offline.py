"""Used when no Stripe keys are set (the local default and tests), so the shop can take an
order without a network. It asks for no card data at all."""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from orders import services
from orders.models import Order, Payment

from .base import Gateway, PaymentStart


class OfflineGateway(Gateway):
    name = "offline"

    @transaction.atomic
    def start(self, *, order: Order) -> PaymentStart:
        payment = order.payments.filter(gateway=self.name, status=Payment.Status.PENDING).first()
        if payment is None:
            payment = Payment.objects.create(
                order=order, gateway=self.name, intent_id=f"offline_{secrets.token_hex(12)}",
                amount=order.total, currency=order.currency,
            )
        return PaymentStart(payment=payment)

    def confirm(self, *, payment: Payment) -> Payment | None:
        return services.payment_record_outcome(
            intent_id=payment.intent_id, status=Payment.Status.SUCCEEDED, amount_received=payment.amount,
            card_brand="test", card_last4="0000",
        )

    def refresh(self, *, payment: Payment) -> Payment:
        return payment

    def refund(self, *, payment: Payment, amount, idempotency_key: str) -> str:
        return "offline_re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
