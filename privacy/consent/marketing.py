"""Marketing email: opt-in only, double opt-in by email, one-click unsubscribe (P8)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from privacy.consent import ledger as consent
from privacy.models import ConsentRecord, MarketingSubscriber
from privacy.processors.disclosure import send_personal_email
from privacy.protection.crypto import email_index


def unsubscribe_url(subscriber: MarketingSubscriber) -> str:
    return settings.SITE_URL + reverse("privacy:unsubscribe", args=[subscriber.token])


RESEND_AFTER = timedelta(hours=1)


@transaction.atomic
def subscribe_request(*, email: str, channel: str, user=None, against_gpc: bool = False) -> MarketingSubscriber:
    """Someone ticked the box: record the grant and send the confirmation email (double opt-in).
    `against_gpc`: they confirmed it a second time although their browser sends GPC (the ledger says so)."""
    subscriber = MarketingSubscriber.objects.filter(email_index=email_index(email)).first()
    if subscriber is None:
        subscriber = MarketingSubscriber.objects.create(email=email, email_index=email_index(email), user=user,
                                                        token=secrets.token_urlsafe(24)[:32])
    elif subscriber.active or (subscriber.unsubscribed_at is None and subscriber.requested_at is not None
                               and timezone.now() - subscriber.requested_at < RESEND_AFTER):
        return subscriber  # confirmed already, or a confirmation link went out within the hour: no second email
    subscriber.unsubscribed_at = None
    if user is not None and subscriber.user_id is None:
        subscriber.user = user
    subscriber.requested_at = timezone.now()
    subscriber.save()
    consent.record(purpose=ConsentRecord.Purpose.MARKETING_EMAIL, granted=True, channel=channel, user=user,
                   subscriber=subscriber, against_gpc=against_gpc)
    transaction.on_commit(lambda: _send_confirmation(subscriber.pk))
    return subscriber


def _send_confirmation(subscriber_id: int) -> None:
    subscriber = MarketingSubscriber.objects.get(pk=subscriber_id)
    url = settings.SITE_URL + reverse("privacy:marketing_confirm", args=[subscriber.token])
    body = render_to_string("privacy/email/marketing_confirm.txt", {"url": url, "shop_name": settings.SHOP_NAME})
    send_personal_email(to=subscriber.email, subject="Please confirm: emails from Privacy-first Shop", text=body,
                        fields=["user.email"], subject_user_id=subscriber.user_id,
                        guest_index=subscriber.email_index, reference="marketing confirmation")


@transaction.atomic
def subscribe_confirm(*, token: str) -> MarketingSubscriber | None:
    subscriber = MarketingSubscriber.objects.select_for_update().filter(token=token).first()
    if subscriber is None or subscriber.unsubscribed_at is not None:
        return None
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
        consent.record(purpose=ConsentRecord.Purpose.MARKETING_EMAIL, granted=True, channel=ConsentRecord.Channel.EMAIL_LINK,
                       user=subscriber.user, subscriber=subscriber)
    return subscriber


@transaction.atomic
def unsubscribe(*, subscriber: MarketingSubscriber, channel: str) -> None:
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])
        consent.record(purpose=ConsentRecord.Purpose.MARKETING_EMAIL, granted=False, channel=channel, user=subscriber.user,
                       subscriber=subscriber)


def may_receive(subscriber: MarketingSubscriber) -> bool:
    """The single check before any marketing email: confirmed, not unsubscribed, and the
    user (if any) is neither restricted nor objecting."""
    if not subscriber.active:
        return False
    if subscriber.user_id is not None:
        return consent.allowed(ConsentRecord.Purpose.MARKETING_EMAIL, user=subscriber.user)
    return consent.ledger_state(purpose=ConsentRecord.Purpose.MARKETING_EMAIL, subscriber=subscriber)


def send_marketing(*, subscriber: MarketingSubscriber, subject: str, body: str) -> bool:
    if not may_receive(subscriber):
        return False
    url = unsubscribe_url(subscriber)
    text = f"{body}\n\n—\nYou receive this because you asked for our emails. Unsubscribe with one click: {url}\n"
    send_personal_email(to=subscriber.email, subject=subject, text=text, fields=["user.email"],
                        subject_user_id=subscriber.user_id, guest_index=subscriber.email_index, reference="marketing",
                        headers={"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return True
