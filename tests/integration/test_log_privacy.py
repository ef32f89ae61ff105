"""No customer address in a worker's log, read from a real Celery worker's output.

A mail server on loopback refuses the customer (quoting the address, as real servers do). The
order email's task fails and Celery logs its retry with the exception's text: that text comes
from the one send function and names no recipient. And when Celery itself prints a message it
was handed (an unregistered task: it logs the whole body), the worker's log handlers redact it.
"""
from __future__ import annotations

import pytest

from orders.models import Notification, Order
from privacy.models import Disclosure
from tests.factories import ProductFactory
from tests.fakes.smtp_server import RefusingSMTPServer
from tests.integration.conftest import _app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CUSTOMER = "grace.hopper@example.com"


@pytest.mark.promise("P15")
def test_a_refused_order_email_is_retried_without_the_address_in_the_worker_log(celery, shopper):
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    with RefusingSMTPServer() as smtp:
        reference = shopper.buy(product, email=CUSTOMER)  # the delivery task waits in the broker
        worker = celery.worker(env={"EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}"})
        celery.wait_for_log(worker, " retry: Retry in ", timeout=30)
        # Celery prints the whole body of a message it cannot route, arguments included.
        _app().send_task("shop.no_such_task", args=["ada.lovelace@example.org"])
        celery.wait_for_log(worker, "Received unregistered task of type 'shop.no_such_task'", timeout=30)
        assert celery.stop(worker) == 0
    # The server refused her (once, or again if the retry came before the worker stopped on a busy machine).
    assert smtp.recipients and set(smtp.recipients) == {CUSTOMER}

    log = worker.output()
    retries = celery.task_errors(worker)
    assert len(retries) == len(smtp.recipients)  # one logged retry per refused attempt
    for retry in retries:
        assert "orders.tasks.notification_deliver" in retry
        assert "MailNotSent('mail not sent (SMTPRecipientsRefused 550)')" in retry
    assert "[email redacted]" in log  # the unregistered task's body
    for value in ("grace.hopper", "hopper", "ada.lovelace", "lovelace", "%40example"):
        assert value not in log.lower(), value

    note = Notification.objects.get(order=Order.objects.get(reference=reference))
    assert (note.sent_at, note.attempts, note.last_error) == (None, len(smtp.recipients), "SMTPRecipientsRefused")
    assert not Disclosure.objects.filter(processor="email").exists()  # nothing was disclosed
