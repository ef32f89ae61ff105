"""Celery for real: a worker and beat as separate processes, on the test's own database.

Beat's DatabaseScheduler runs the retention purge; a worker killed in the middle of a data
export leaves the task to another attempt, which finishes it exactly once; an order email
written to the outbox while no worker runs is delivered, once, when one starts.
"""
from __future__ import annotations

import io
import json
import os
import signal
import time
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.models import Notification, Order, OrderLine
from orders.tasks import notifications_sweep
from privacy.models import ExportJob, PurgeRun
from privacy.protection.crypto import email_index
from privacy.protection.storage import private_names
from privacy.rights.export import export_chunks, export_request
from shop.models import BrowsingEvent
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.integration.conftest import broker_is_redis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

READY_SUBJECT = "Your data is ready to download"
# The export then takes about a second (0.6 s on SQLite, 1.4 s on PostgreSQL on a 2-core VM); the
# test kills the worker within ~0.1 s of the job turning "running", and fails clearly if it was too late.
EXPORT_ORDERS = 3000
VISIBILITY_TIMEOUT = 6  # seconds (Redis): how long a killed worker's task stays invisible


# --- 1. beat → worker → retention purge ---------------------------------------------------

def test_beat_runs_the_purge(celery):
    now = timezone.now()
    customer, product = UserFactory(), ProductFactory()
    expired = OrderFactory(user=customer, status=Order.Status.DELIVERED, created_at=now - timedelta(days=200),
                           paid_at=now - timedelta(days=200), delivered_at=now - timedelta(days=200))
    recent = OrderFactory(user=customer, status=Order.Status.DELIVERED, created_at=now - timedelta(days=10),
                          paid_at=now - timedelta(days=10), delivered_at=now - timedelta(days=10))
    reference = expired.reference
    old_view = BrowsingEvent.objects.create(user=customer, product=product, at=now - timedelta(days=100))
    new_view = BrowsingEvent.objects.create(user=customer, product=product, at=now - timedelta(days=10))

    every_2s = {"PRIVACY_PURGE_EVERY_SECONDS": "2"}
    worker = celery.worker(env=every_2s)
    beat = celery.beat(env=every_2s)

    def purged():
        expired.refresh_from_db()
        return (PurgeRun.objects.filter(status="finished", dry_run=False).exists()
                and expired.anonymised_at is not None
                and not BrowsingEvent.objects.filter(pk=old_view.pk).exists())

    celery.wait_until(purged, timeout=60, what="a finished purge run that anonymised the order", interval=0.25)
    exits = {"beat": celery.stop(beat), "worker": celery.stop(worker)}

    assert exits == {"beat": 0, "worker": 0}, exits  # both stopped on SIGTERM, cleanly
    scheduled = PeriodicTask.objects.get(name="retention-purge")
    assert scheduled.task == "privacy.tasks.retention_purge" and scheduled.interval.every == 2
    assert "Sending due task retention-purge (privacy.tasks.retention_purge)" in beat.output()
    assert "privacy.tasks.retention_purge" in worker.output()

    expired.refresh_from_db()
    recent.refresh_from_db()
    assert (expired.shipping_name, expired.email, expired.user_id) == ("", "", None)
    assert (expired.reference, expired.total, expired.status) == (reference, Decimal("19.99"), "delivered")
    assert recent.anonymised_at is None and recent.shipping_name == "Ada Lovelace"
    assert BrowsingEvent.objects.filter(pk=new_view.pk).exists()
    runs = list(PurgeRun.objects.filter(dry_run=False))
    assert all(run.status in ("finished", "skipped") for run in runs), [(r.status, r.errors) for r in runs]
    done = [run.counts for run in runs if run.status == "finished"]
    assert sum(c.get("orders.delivered", {}).get("count", 0) for c in done) == 1  # anonymised once
    assert sum(c.get("browsing.history", {}).get("count", 0) for c in done) == 1


# --- 2. a worker killed mid-export --------------------------------------------------------

def customer_with_orders(n: int):
    user = UserFactory()
    product = ProductFactory()
    orders = Order.objects.bulk_create(
        [Order(user=user, email=user.email, email_index=email_index(user.email), shipping_name="Ada Lovelace",
               shipping_line1="12 Analytical Row", shipping_city="London", shipping_postal_code="N1 9GU",
               shipping_country="GB", phone="+44 20 7946 0000", status=Order.Status.COMPLETED,
               subtotal=Decimal("19.99"), total=Decimal("19.99"), completed_at=timezone.now())
         for _ in range(n)], batch_size=500)
    OrderLine.objects.bulk_create(
        [OrderLine(order=o, product=product, product_name=product.name, unit_price=o.total, quantity=1,
                   line_total=o.total) for o in orders], batch_size=500)
    return user


def request_export(user) -> ExportJob:
    with transaction.atomic():  # committed: on commit, the task goes to the broker
        job = export_request(user=user)
    return job


def wait_until_running(celery, job: ExportJob) -> None:
    def running():
        job.refresh_from_db()
        assert job.status != ExportJob.Status.READY, \
            f"the export finished before the worker could be killed: raise EXPORT_ORDERS ({EXPORT_ORDERS})"
        return job.status == ExportJob.Status.RUNNING

    celery.wait_until(running, timeout=30, what="the export to start", interval=0.05)


def assert_exported_once(celery, job: ExportJob, user) -> None:
    """One ready job, one archive (complete), one email: nothing done twice, nothing left over."""
    job.refresh_from_db()
    assert ExportJob.objects.filter(user=user).count() == 1
    assert (job.status, job.progress) == (ExportJob.Status.READY, 100)
    assert private_names(kind="exports") == [job.file_name]  # no second file, no .part
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export_chunks(job))))
    records = json.loads(archive.read("data.json"))["models"]["orders.Order"]["records"]
    assert len(records) == EXPORT_ORDERS
    ready = [m for m in celery.emails() if m["Subject"] == READY_SUBJECT]
    assert [m["To"] for m in ready] == [user.email]


def wait_until_settled(celery, worker, task: str) -> None:
    """The task succeeded in `worker` and the broker holds nothing more, queued or unacknowledged:
    nothing can run it again."""
    # Watch only this worker: another one may have been killed on purpose before it started.
    celery.wait_until(lambda: celery.task_events(worker, task, "succeeded in"), timeout=30,
                      what=f"{task} to succeed", watch=[worker])
    celery.wait_until(lambda: celery.broker.pending() == 0 and celery.broker.unacked() == 0, timeout=10,
                      what="an empty broker", watch=[worker])


def test_a_worker_killed_mid_export_retries_and_finishes_once(celery):
    """The worker process dies (SIGKILL to it and its pool: a lost machine, an OOM kill) while
    the task runs unacknowledged (acks_late). Redis gives the task back after the visibility
    timeout; a second worker finishes it."""
    if not broker_is_redis():
        pytest.skip("needs Redis (CELERY_BROKER_URL=redis://...): kombu's filesystem broker deletes a message "
                    "file when a worker takes it, so a task whose worker is killed is lost, never redelivered")
    if "visibility_timeout" not in getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}):
        pytest.skip("needs settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] from "
                    "CELERY_BROKER_VISIBILITY_TIMEOUT: with Redis's default (1 h) the task comes back too late")
    short = {"CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    user = customer_with_orders(EXPORT_ORDERS)
    first = celery.worker("worker1", env=short)
    job = request_export(user)
    wait_until_running(celery, job)
    delivered_at = time.monotonic()  # the message went unacked a little before this
    celery.kill(first)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.progress < 100  # killed half-way
    assert celery.broker.unacked() == 1 and celery.broker.pending() == 0  # held by nobody
    assert not [m for m in celery.emails() if m["Subject"] == READY_SUBJECT]
    # A worker starting after the visibility timeout restores the task at once.
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = celery.worker("worker2", env=short)
    celery.wait_until(lambda: ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.READY).exists(),
                      timeout=40, what="the export to be ready", interval=0.2, watch=[second])
    wait_until_settled(celery, second, "privacy.tasks.export_build")
    assert celery.task_events(second, "privacy.tasks.export_build", "received") == 1
    assert celery.stop(second) == 0
    assert_exported_once(celery, job, user)


def test_a_pool_process_killed_mid_export_is_retried_and_finishes_once(celery):
    """The process running the task dies (SIGKILL), the worker survives: with acks_late and
    reject_on_worker_lost the worker gives the task back to the broker and runs it again.
    On every broker, the filesystem one included."""
    user = customer_with_orders(EXPORT_ORDERS)
    worker = celery.worker()
    job = request_export(user)
    wait_until_running(celery, job)
    (pool_process,) = worker.children()
    os.kill(pool_process, signal.SIGKILL)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.progress < 100  # killed half-way

    celery.wait_for_log(worker, "exited with 'signal 9 (SIGKILL)'", timeout=10)
    celery.wait_until(lambda: ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.READY).exists(),
                      timeout=40, what="the export to be ready", interval=0.2)
    wait_until_settled(celery, worker, "privacy.tasks.export_build")
    assert celery.task_events(worker, "privacy.tasks.export_build", "received") == 2  # the same message, again
    assert celery.task_events(worker, "privacy.tasks.export_build", "succeeded in") == 1
    assert celery.stop(worker) == 0
    assert_exported_once(celery, job, user)


# --- 3. the outbox survives a worker outage ------------------------------------------------

def test_order_email_survives_a_worker_outage(celery, shopper):
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    reference = shopper.buy(product, email="grace@example.com")  # no worker runs

    order = Order.objects.get(reference=reference)
    assert order.status == Order.Status.PAID
    note = Notification.objects.get(order=order, kind=Notification.Kind.ORDER_CONFIRMED)
    assert note.sent_at is None and note.attempts == 0
    assert celery.broker.pending() >= 1  # the delivery task waits in the broker
    # The outage lasted long enough for the beat sweep to take the row too: both race for it.
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    notifications_sweep.delay()
    worker = celery.worker(concurrency=2)

    def sent():
        assert not celery.task_errors(worker), celery.task_errors(worker)
        return Notification.objects.filter(pk=note.pk, sent_at__isnull=False).exists()

    celery.wait_until(sent, timeout=30, what="the confirmation email to be sent")
    celery.wait_until(lambda: celery.task_events(worker, "orders.tasks.notification_deliver", "succeeded in")
                      and celery.task_events(worker, "orders.tasks.notifications_sweep", "succeeded in"),
                      timeout=30, what="the delivery task and the sweep to finish")
    celery.wait_until(lambda: celery.broker.pending() == 0, timeout=10, what="an empty broker")
    assert celery.stop(worker) == 0

    note.refresh_from_db()
    assert note.attempts == 1 and note.last_error == ""
    confirmations = [m for m in celery.emails() if m["Subject"] == f"Your order {reference} is confirmed"]
    assert [m["To"] for m in confirmations] == ["grace@example.com"]
    assert len(celery.emails()) == 1
