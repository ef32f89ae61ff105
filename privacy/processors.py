"""Processors: who receives personal data from us, what exactly, why, where, under which
safeguard (P15, P16, P23). Every outbound disclosure goes through `disclose`, which refuses
any field not on the processor's list and records the transfer for the data subject."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from django.db import transaction

from .models import Disclosure


@dataclass(frozen=True)
class Processor:
    key: str
    name: str
    purpose: str
    receives: frozenset[str]  # "model.field" keys, the only ones that may be sent
    country: str
    safeguard: str
    deletion: str  # how the processor stops holding the data


PROCESSORS: dict[str, Processor] = {p.key: p for p in [
    Processor(
        key="stripe", name="Stripe, Inc.", purpose="Taking card payments and refunds",
        receives=frozenset({"order.reference", "order.total", "order.currency", "user.reference"}),
        country="US", safeguard="EU Standard Contractual Clauses; EU-US Data Privacy Framework",
        deletion="Customer objects deleted through Stripe's API on erasure; payment records kept by Stripe "
                 "as its own legal obligation.",
    ),
    Processor(
        key="email", name="Transactional email provider", purpose="Sending order and account emails",
        receives=frozenset({"order.email", "order.shipping_name", "order.shipping_city",
                            "order.shipping_country", "order.reference", "user.email"}),
        country="IE", safeguard="Within the EEA",
        deletion="Provider keeps delivery logs for at most 30 days under our contract.",
    ),
    Processor(
        key="carrier", name="Parcel carrier", purpose="Delivering your parcel",
        receives=frozenset({"order.shipping_name", "order.shipping_line1", "order.shipping_line2",
                            "order.shipping_city", "order.shipping_postal_code", "order.shipping_region",
                            "order.shipping_country", "order.phone", "order.reference"}),
        country="DE", safeguard="Within the EEA",
        deletion="Carrier deletes delivery data 90 days after delivery under our contract.",
    ),
    Processor(
        key="hosting", name="Hosting provider", purpose="Running the shop's servers and database",
        receives=frozenset(), country="DE", safeguard="Within the EEA; data encrypted at rest",
        deletion="Backups rotate out within 35 days.",
    ),
]}


class UndeclaredDisclosure(Exception):
    """Code tried to send a processor a field that is not on its list."""


@transaction.atomic
def disclose(*, processor: str, fields: Iterable[str], purpose: str = "", subject_user_id: int | None = None,
             guest_index: str = "", reference: str = "") -> Disclosure:
    proc = PROCESSORS[processor]
    sent = sorted(set(fields))
    extra = set(sent) - proc.receives
    if extra:
        raise UndeclaredDisclosure(f"{proc.name} may not receive {', '.join(sorted(extra))}")
    return Disclosure.objects.create(
        processor=proc.key, purpose=purpose or proc.purpose, fields=sent, country=proc.country,
        safeguard=proc.safeguard, subject_user_id=subject_user_id, guest_index=guest_index, reference=reference,
    )
