"""Writing an email into the outbox, in the caller's transaction, and handing it to Celery."""
from __future__ import annotations

import logging

from django.db import transaction

from orders.models import Notification, Order

from .tasks import notification_deliver

log = logging.getLogger(__name__)


def notification_queue(*, kind: str, order: Order | None = None, thread=None, ref: str = "") -> Notification:
    """Write an email into the outbox (in the caller's transaction) and hand it to Celery on commit."""
    note, created = Notification.objects.get_or_create(order=order, thread=thread, kind=kind, ref=str(ref))
    if created:
        transaction.on_commit(lambda: notification_dispatch(notification_id=note.pk))
    return note


def notification_dispatch(*, notification_id: int) -> None:
    """Hand a queued email to Celery. If the broker is down the outbox row stays and the
    beat sweep sends it later: the order itself never fails because of email."""
    try:
        notification_deliver.delay(notification_id)
    except Exception as exc:  # broker unreachable: the sweep picks the row up
        log.warning("notification %s left for the sweep (%s)", notification_id, type(exc).__name__)
