"""Returns and refunds (P7): within the return window the customer asks to return lines with a
reason; staff approve or refuse (with a reason); on receipt the goods are restocked and the
refund goes through the payment gateway, once however often it is replayed. Refunds have a
target cycle from receipt; late ones are flagged. Writes in services, reads in selectors; the
names below are the package's public API (`from orders import returns`; `returns.refund_issue`)."""
from .selectors import refunded_total, return_deadline, returnable
from .services import (
           ReturnError,
           order_refund_in_full,
           refund_issue,
           return_approve,
           return_receive,
           return_refuse,
           return_request_create,
)

__all__ = ["ReturnError", "order_refund_in_full", "refund_issue", "refunded_total", "return_approve", "return_deadline", "return_receive",
           "return_refuse", "return_request_create", "returnable"]
