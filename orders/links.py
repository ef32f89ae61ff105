"""Links we email: a guest's order link and a conversation link, signed so they need no account."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Order, SupportThread

GUEST_LINK_SALT = "orders.guest-link"
THREAD_LINK_SALT = "orders.support-thread"


def guest_order_token(order: Order) -> str:
    return signing.dumps({"o": order.pk, "r": order.reference}, salt=GUEST_LINK_SALT, compress=True)


def order_from_guest_token(token: str) -> Order | None:
    try:
        data = signing.loads(token, salt=GUEST_LINK_SALT, max_age=timedelta(days=settings.SHOP_GUEST_LINK_DAYS))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return Order.objects.filter(pk=data.get("o"), reference=data.get("r")).first()


def order_link(order: Order) -> str:
    if order.user_id:
        return settings.SITE_URL + reverse("orders:detail", kwargs={"reference": order.reference})
    return settings.SITE_URL + reverse("orders:guest_detail", kwargs={"token": guest_order_token(order)})


def thread_link(thread: SupportThread) -> str:
    if thread.user_id:
        return settings.SITE_URL + reverse("orders:thread", args=[thread.pk])
    token = signing.dumps(thread.token, salt=THREAD_LINK_SALT)
    return settings.SITE_URL + reverse("orders:guest_thread", args=[token])


def thread_from_guest_token(token: str) -> SupportThread | None:
    try:
        raw = signing.loads(token, salt=THREAD_LINK_SALT, max_age=60 * 60 * 24 * 365)
    except signing.BadSignature:
        return None
    return SupportThread.objects.filter(token=str(raw), user__isnull=True).first()
