"""Processors: who receives personal data from us, what exactly, why, where, under which
safeguard (P15, P16, P23). Every outbound disclosure goes through `disclose`, which refuses
any field not on the processor's list and records the transfer for the data subject.

Every email the shop sends goes through `send_personal_email`: one recipient, the fields it
carries checked against the email provider's list and recorded as a disclosure in the same
transaction as the send (a refused field sends nothing; a failed send records nothing). Mail
errors leave it without the recipient's address in their text, so no retry log can print it.
Tests refuse any message it did not stamp, and scan the code for other ways to send."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from typing import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from privacy.models import Disclosure
from privacy.protection.sealing import Unreadable


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


# Set on every message `send_personal_email` sends (the id of its disclosure); the test email
# backend refuses messages without it.
STAMP = "personal_email_disclosure_id"


class MailNotSent(Exception):
    """The mail could not be sent. Its text names the error's type and SMTP codes only: the
    provider's own message (which quotes recipients) is dropped, so retries can log it."""

    def __init__(self, reason: str, codes: Iterable[int] = ()):
        self.reason, self.codes = reason, sorted(set(codes))
        super().__init__(f"mail not sent ({reason}{' ' + ' '.join(map(str, self.codes)) if self.codes else ''})")


def _smtp_codes(exc: Exception) -> list[int]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return [code for code, _ in exc.recipients.values()]
    return [exc.smtp_code] if isinstance(exc, smtplib.SMTPResponseException) else []


def html_version(subject: str, text: str) -> str:
    """The HTML part of a plain-text email: the same words on the shop's one email layout
    (templates/email/base.html), links made clickable."""
    body = mark_safe(linebreaks(urlize(text.strip(), autoescape=True)))  # urlize escapes the words  # noqa: S308
    return render_to_string("email/base.html", {"subject": subject, "body": body, "shop_name": settings.SHOP_NAME})


def send_personal_email(*, to: str, subject: str, text: str, fields: Iterable[str], html: str | None = None,
                        subject_user_id: int | None = None, guest_index: str = "", reference: str = "",
                        headers: dict[str, str] | None = None, purpose: str = "",
                        from_email: str | None = None) -> Disclosure:
    """Send one email to one person through the email provider. `fields` are what it tells the
    provider ("user.email", "order.reference"...), checked against its processor entry; the
    disclosure is recorded for `subject_user_id` / `guest_index`. Raises UndeclaredDisclosure
    (nothing sent) or MailNotSent (nothing recorded)."""
    if not isinstance(to, str) or not to:
        raise TypeError("one email, one recipient: `to` is an address")
    if isinstance(to, Unreadable):  # the key store is down (retry later) or the person was erased
        raise MailNotSent("RecipientUnreadable")
    with transaction.atomic():
        disclosure = disclose(processor="email", fields=fields, purpose=purpose, subject_user_id=subject_user_id,
                              guest_index=guest_index, reference=reference[:60])
        message = EmailMultiAlternatives(subject, text, from_email, [to], headers=headers)
        message.attach_alternative(html if html is not None else html_version(subject, text), "text/html")
        setattr(message, STAMP, disclosure.pk)
        error = None
        try:
            message.send()
        except Exception as exc:
            error = MailNotSent(type(exc).__name__, _smtp_codes(exc))
        if error is not None:  # raised outside the handler: the original is not even its context
            raise error
    return disclosure
