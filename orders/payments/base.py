"""The one payment interface every gateway implements."""
from __future__ import annotations

from dataclasses import dataclass, field

from orders.models import Order, Payment


class PaymentError(Exception):
    """The gateway could not be reached or refused; the message is safe to show."""


@dataclass
class PaymentStart:
    payment: Payment
    client_secret: str = ""
    extra: dict = field(default_factory=dict)


class Gateway:
    name: str

    def start(self, *, order: Order) -> PaymentStart:  # pragma: no cover - interface
        raise NotImplementedError

    def refresh(self, *, payment: Payment) -> Payment:  # pragma: no cover - interface
        raise NotImplementedError

    def refund(self, *, payment: Payment, amount, idempotency_key: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError
