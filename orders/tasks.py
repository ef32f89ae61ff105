"""Celery tasks: thin, id-only arguments, idempotent."""
from celery import shared_task

from config.lease import one_at_a_time

from . import services
from .notifications.tasks import notification_deliver, notifications_sweep  # noqa: F401  (registered by name)


@shared_task
@one_at_a_time(seconds=15 * 60)  # periodic: a second beat's run does nothing (config/lease.py)
def orders_cancel_unpaid() -> int:
    return services.order_cancel_unpaid()
