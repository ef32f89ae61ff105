"""Celery tasks: thin, id-only arguments, idempotent."""
from celery import shared_task

from . import emails, services


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=600, max_retries=8)
def notification_deliver(notification_id: int) -> None:
    emails.notification_send(notification_id=notification_id)


@shared_task
def notifications_sweep() -> int:
    """Send what the outbox still holds (broker was down, worker crashed)."""
    return emails.notifications_send_pending()


@shared_task
def orders_cancel_unpaid() -> int:
    return services.order_cancel_unpaid()
