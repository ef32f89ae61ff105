"""The carrier hand-off (P12, P15): orders ready to ship go to the carrier as a minimal
payload — name, address, phone and the order reference for the label; nothing else — through
one interface. The local implementation is a CSV file for fulfilment staff. Every hand-off is
a recorded disclosure. Tracking updates move orders to shipped or delivered and tell the
customer."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from privacy.audit import audit_log
from privacy.models import AccessLogEntry
from privacy.processors import PROCESSORS, disclose

from . import services
from .models import Order

# The payload, in order; checked against the carrier's entry in the processor registry.
PAYLOAD = [("reference", "order.reference"), ("name", "order.shipping_name"), ("line1", "order.shipping_line1"),
           ("line2", "order.shipping_line2"), ("postal_code", "order.shipping_postal_code"),
           ("city", "order.shipping_city"), ("region", "order.shipping_region"),
           ("country", "order.shipping_country"), ("phone", "order.phone")]
assert {key for _, key in PAYLOAD} <= PROCESSORS["carrier"].receives, "carrier payload exceeds its processor entry"


def payload(order: Order) -> dict[str, str]:
    return {column: str(getattr(order, key.split(".", 1)[1]) or "") for column, key in PAYLOAD}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet takes as text: one starting like a formula (= + - @, tab, CR) gets a
    leading apostrophe, so a customer's "name" such as =HYPERLINK(...) runs nothing on the
    fulfilment computer. Every cell goes through here (phone numbers in +44 form included)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class Carrier:
    name = "carrier"

    def hand_off(self, orders: list[Order]) -> tuple[str, bytes]:  # pragma: no cover - interface
        raise NotImplementedError


class CsvCarrier(Carrier):
    """For the local default: fulfilment staff download a CSV and upload it to the carrier."""

    def hand_off(self, orders: list[Order]) -> tuple[str, bytes]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[c for c, _ in PAYLOAD])
        writer.writeheader()
        for order in orders:
            writer.writerow({column: csv_cell(value) for column, value in payload(order).items()})
        return f"handoff-{timezone.now():%Y%m%d-%H%M%S}.csv", buffer.getvalue().encode()


def get_carrier() -> Carrier:
    return CsvCarrier()


@transaction.atomic
def carrier_hand_off(*, orders: list[Order], by) -> tuple[str, bytes]:
    ready = [o for o in orders if o.status == Order.Status.PAID and not o.anonymised_at]
    if not ready:
        raise ValueError("No order here is paid and waiting for shipment.")
    name, data = get_carrier().hand_off(ready)
    fields = [key for _, key in PAYLOAD]
    for order in ready:
        disclose(processor="carrier", fields=fields, subject_user_id=order.user_id, guest_index=order.email_index,
                 reference=order.reference)
    audit_log(actor=by, action=AccessLogEntry.Action.EXPORT, model_label="orders.Order", object_ids=[o.pk for o in ready],
                    fields=fields, subject_user_ids=[o.user_id for o in ready], reason="carrier hand-off")
    return name, data


@dataclass
class TrackingUpdate:
    reference: str
    carrier: str
    tracking_number: str
    event: str  # "shipped" or "delivered"


def tracking_apply(update: TrackingUpdate) -> str:
    """Apply one tracking event from the carrier; repeats and unknown orders change nothing."""
    order = Order.objects.filter(reference=update.reference.strip().upper()).first()
    if order is None:
        return "unknown order"
    try:
        if update.event == "shipped" and order.status == Order.Status.PAID:
            services.order_mark_shipped(order=order, carrier=update.carrier, tracking_number=update.tracking_number,
                                        by=None)
            return "shipped"
        if update.event == "delivered" and order.status == Order.Status.SHIPPED:
            services.order_mark_delivered(order=order, by=None)
            return "delivered"
    except services.TransitionError:
        pass
    return "unchanged"
