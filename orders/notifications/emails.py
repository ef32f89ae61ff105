"""Customer emails about orders (P6). Rendered when sent, from the outbox row's ids."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from orders.links import order_link, thread_link
from orders.models import Notification, ReturnRequest
from privacy.processors import MailNotSent, send_personal_email

log = logging.getLogger(__name__)

SUBJECTS = {
    Notification.Kind.ORDER_CONFIRMED: "Your order {ref} is confirmed",
    Notification.Kind.ORDER_SHIPPED: "Your order {ref} is on its way",
    Notification.Kind.ORDER_DELIVERED: "Your order {ref} was delivered",
    Notification.Kind.ORDER_CANCELLED: "Your order {ref} was cancelled",
    Notification.Kind.RETURN_REQUESTED: "We received your return request for order {ref}",
    Notification.Kind.RETURN_APPROVED: "Your return for order {ref} is approved",
    Notification.Kind.RETURN_REFUSED: "About your return request for order {ref}",
    Notification.Kind.RETURN_RECEIVED: "We received your returned items (order {ref})",
    Notification.Kind.REFUND_ISSUED: "Your refund for order {ref} is on its way",
    Notification.Kind.SUPPORT_REPLY: "Customer service answered: {ref}",
}
# What each email tells the email provider (checked against its processor entry).
_BASE = ["order.email", "order.reference"]
EMAIL_FIELDS = {
    Notification.Kind.ORDER_CONFIRMED: _BASE + ["order.shipping_name", "order.shipping_city", "order.shipping_country"],
    Notification.Kind.ORDER_SHIPPED: _BASE,
    Notification.Kind.ORDER_DELIVERED: _BASE,
    Notification.Kind.ORDER_CANCELLED: _BASE,
    Notification.Kind.RETURN_REQUESTED: _BASE,
    Notification.Kind.RETURN_APPROVED: _BASE,
    Notification.Kind.RETURN_REFUSED: _BASE,
    Notification.Kind.RETURN_RECEIVED: _BASE,
    Notification.Kind.REFUND_ISSUED: _BASE,
    Notification.Kind.SUPPORT_REPLY: ["user.email"],
}


def notification_send(*, notification_id: int) -> bool:
    """Send one outbox email, at most once per row (the row is locked and stamped)."""
    with transaction.atomic():
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins.
        note = (Notification.objects.select_for_update(of=("self",)).select_related("order", "thread")
                .filter(pk=notification_id, sent_at__isnull=True).first())
        if note is None:
            return False
        order, thread = note.order, note.thread
        if (order is not None and order.anonymised_at is not None) or (order is None and thread is None):
            note.sent_at = timezone.now()  # nobody left to write to
            note.save(update_fields=["sent_at"])
            return False
        context = {"order": order, "thread": thread, "kind": note.kind, "site_url": settings.SITE_URL,
                   "shop_name": settings.SHOP_NAME}
        if order is not None:
            context.update(lines=list(order.lines.all()), link=order_link(order))
        if note.kind.startswith(("return_", "refund_")):
            context["return"] = ReturnRequest.objects.filter(pk=note.ref or 0).prefetch_related(
                "lines__order_line").first()
        if thread is not None:
            context.update(link=thread_link(thread), reply=thread.messages.filter(from_staff=True).last())
        recipient = order.email if order is not None else thread.email
        ref = order.reference if order is not None else f"#{thread.pk}"
        holder = order if order is not None else thread
        try:
            send_personal_email(to=recipient, subject=SUBJECTS[note.kind].format(ref=ref),
                                text=render_to_string(f"orders/email/{note.kind}.txt", context),
                                fields=EMAIL_FIELDS[note.kind], subject_user_id=holder.user_id,
                                guest_index=holder.email_index, reference=ref)
        except MailNotSent as exc:
            error = exc
        else:
            note.attempts += 1
            note.sent_at = timezone.now()
            note.last_error = ""
            note.save(update_fields=["attempts", "sent_at", "last_error"])
            return True
    # Recorded after the row's transaction is over, or the failure would be rolled back with it.
    Notification.objects.filter(pk=notification_id).update(attempts=F("attempts") + 1, last_error=error.reason[:200])
    log.warning("notification %s not sent (%s), will retry", notification_id, error)
    raise error


def notifications_send_pending(*, older_than_seconds: int = 30, limit: int = 200) -> int:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(Notification.objects.filter(sent_at__isnull=True, created_at__lte=cutoff, attempts__lt=20)
               .values_list("pk", flat=True)[:limit])
    sent = 0
    for pk in ids:
        try:
            sent += notification_send(notification_id=pk)
        except Exception:
            continue
    return sent
