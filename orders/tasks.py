"""Celery tasks: thin, id-only arguments, idempotent."""
from celery import shared_task

from . import services
from .notifications.tasks import notification_deliver, notifications_sweep  # noqa: F401  (registered by name)


@shared_task
def orders_cancel_unpaid() -> int:
    return services.order_cancel_unpaid()
