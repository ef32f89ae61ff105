"""The outbox's tasks; named as when they lived in orders.tasks (beat's schedule stores names)."""
from celery import shared_task

from config.lease import one_at_a_time

from . import emails


@shared_task(name="orders.tasks.notification_deliver", autoretry_for=(Exception,), retry_backoff=30,
             retry_backoff_max=600, max_retries=8)
def notification_deliver(notification_id: int) -> None:
    emails.notification_send(notification_id=notification_id)


@shared_task(name="orders.tasks.notifications_sweep")
@one_at_a_time(seconds=10 * 60)  # periodic: a second beat's run does nothing (config/lease.py)
def notifications_sweep() -> int:
    """Send what the outbox still holds (broker was down, worker crashed)."""
    return emails.notifications_send_pending()
