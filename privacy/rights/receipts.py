"""Erasure receipts (P13, P16, P17): what one erasure did, told to the person and shown to staff.

A receipt says what was deleted (by kind, with counts); what is kept without the person's
details, per field, with the reason or law and the date it goes; what a legal hold keeps, on
what basis and until when; and which processors were told and what they answered (GDPR Art. 19),
updated when a processor's answer arrives. It is built from the registry and from the run itself
(privacy.rights.erasure), inside the erasure's transaction.

Invariant: a receipt holds counts, names of kinds and fields, reasons, dates, order references
and processors' answers, never a value of the person, so it can outlive them. The person opens
it from the link in the email until the link expires; staff see it on the request.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from privacy.models import ErasureReceipt, PrivacyRequest
from privacy.processors.disclosure import send_personal_email


class ErasureRun(Protocol):
    """What privacy.rights.erasure.ErasureReport tells of one run (erasure imports this module)."""

    deleted: dict[str, int]
    held: dict[str, int]
    kept: list[dict]
    holds: list[dict]


LINK_DAYS = 30  # settings.PRIVACY_RECEIPT_LINK_DAYS overrides


@dataclass(frozen=True)
class ProcessorAnswer:
    deletion_id: int
    processor: str
    name: str
    state: str  # pending, done, failed
    answer: str


def link_days() -> int:
    return int(getattr(settings, "PRIVACY_RECEIPT_LINK_DAYS", LINK_DAYS))


def _kind_name(label: str) -> str:
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return label


def receipt_create(*, report: ErasureRun, processors: list[ProcessorAnswer],
                   now: datetime | None = None) -> ErasureReceipt:
    """Store the receipt of one erasure run; `report` is the run's own account of itself."""
    now = now or timezone.now()
    body = {
        "erased_at": now.isoformat(),
        "deleted": [{"label": label, "kind": _kind_name(label), "count": count}
                    for label, count in sorted(report.deleted.items()) if count],
        "kept": sorted(report.kept, key=lambda k: k["label"]),
        "held": [{"label": label, "kind": _kind_name(label), "count": count}
                 for label, count in sorted(report.held.items())],
        "holds": list(report.holds),
        "processors": [asdict(p) for p in processors],
    }
    receipt = ErasureReceipt.objects.create(body=body, token=secrets.token_hex(16), created_at=now, updated_at=now,
                                            link_expires_at=now + timedelta(days=link_days()))
    receipt.processor_deletions.set([p.deletion_id for p in processors])
    return receipt


@transaction.atomic
def receipt_processor_update(*, deletion_id: int, state: str, answer: str) -> int:
    """A processor answered (the Stripe task settled): every receipt that lists this deletion
    shows the answer from now on. Returns how many receipts changed."""
    changed = 0
    for receipt in ErasureReceipt.objects.select_for_update().filter(processor_deletions__pk=deletion_id):
        for line in receipt.body.get("processors", []):
            if line.get("deletion_id") == deletion_id:
                line["state"], line["answer"], line["at"] = state, answer, timezone.now().isoformat()
        receipt.updated_at = timezone.now()
        receipt.save(update_fields=["body", "updated_at"])
        changed += 1
    return changed


def receipt_attach(*, receipt_id: int | None, case: PrivacyRequest) -> None:
    """The receipt belongs to the request it answers: staff see it there."""
    if receipt_id is not None:
        ErasureReceipt.objects.filter(pk=receipt_id).update(request=case)


def receipt_live(token: str) -> ErasureReceipt | None:
    """The receipt this link opens, while the link lives."""
    if not token:
        return None
    return ErasureReceipt.objects.filter(token=token, link_expires_at__gt=timezone.now()).first()


def receipt_url(receipt: ErasureReceipt) -> str:
    return settings.SITE_URL + reverse("privacy:erasure_receipt", args=[receipt.token])


def _when(value: str | None):
    return parse_datetime(value) if value else None


def receipt_context(receipt: ErasureReceipt) -> dict:
    """The receipt as the page, the admin and the email show it (dates as dates)."""
    body = receipt.body or {}
    return {
        "receipt": receipt, "erased_at": _when(body.get("erased_at")),
        "deleted": body.get("deleted", []),
        "kept": [{**k, "until": _when(k.get("until"))} for k in body.get("kept", [])],
        "held": body.get("held", []),
        "holds": [{**h, "until": _when(h.get("until"))} for h in body.get("holds", [])],
        "processors": body.get("processors", []),
        "link_expires_at": receipt.link_expires_at, "shop_name": settings.SHOP_NAME,
    }


def receipt_send(*, receipt_id: int | None, to: str, subject: str, opening: str, reference: str) -> None:
    """Email the receipt (text and HTML on the shop's email layout) through the one mail path.
    Recorded as a disclosure without a link to the person: none is left."""
    receipt = ErasureReceipt.objects.filter(pk=receipt_id).first() if receipt_id else None
    if receipt is None or not to:
        return
    context = {**receipt_context(receipt), "opening": opening, "url": receipt_url(receipt), "subject": subject}
    text = render_to_string("privacy/email/erasure_receipt.txt", context).strip() + "\n"
    body = render_to_string("privacy/email/erasure_receipt_body.html", context)
    html = render_to_string("email/base.html", {"subject": subject, "body": body, "shop_name": settings.SHOP_NAME})
    send_personal_email(to=to, subject=subject, text=text, html=html, fields=["user.email"], reference=reference)
