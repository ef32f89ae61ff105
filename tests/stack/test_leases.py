"""A second beat by mistake is harmless: every periodic task runs once at a time.

Every entry of beat's schedule is run twice at once (two threads, as two worker processes
taking the two beats' messages would): the first run's work is held open until the second has
answered, and the work must have been done once. The schedule is read from the settings, so a
new periodic task without a lease fails here until it has one (and an entry below saying where
its work is done).
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings

from config.celery import app
from config.lease import lease

# Where each periodic task's work is done (what the task calls), and what that returns.
WORK = {
    "orders.tasks.notifications_sweep": ("orders.notifications.emails.notifications_send_pending", 3),
    "orders.tasks.orders_cancel_unpaid": ("orders.services.order_cancel_unpaid", 2),
    "privacy.tasks.exports_expire": ("privacy.tasks.expire_exports", 4),
    "privacy.tasks.erasures_run_due": ("privacy.tasks.erasure_run_due", 1),
    "privacy.tasks.legal_holds_expire": ("privacy.tasks.expire_legal_holds", 5),
    "privacy.tasks.requests_remind": ("privacy.tasks.remind_staff", 6),
    "privacy.tasks.retention_purge": ("privacy.tasks.purge", SimpleNamespace(status="finished")),
    "privacy.tasks.keys_sweep": ("privacy.tasks.sweep_keys", SimpleNamespace(keys_destroyed=7)),
}
# Tasks that return one figure of what their work returns.
RETURNS = {"privacy.tasks.retention_purge": "finished", "privacy.tasks.keys_sweep": 7}
PERIODIC = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})


def test_every_periodic_task_is_listed_here():
    assert set(PERIODIC) == set(WORK)


@pytest.mark.parametrize("name", PERIODIC)
def test_two_runs_of_a_periodic_task_at_once_do_its_work_once(name, caplog):
    target, result = WORK[name]
    importlib.import_module(name.rsplit(".", 1)[0])  # registers the task, as a worker does
    task = app.tasks[name]
    working, finish = threading.Event(), threading.Event()
    calls, results = [], []

    def slow_work(*args, **kwargs):
        calls.append(threading.get_ident())
        working.set()
        assert finish.wait(10)
        return result

    with mock.patch(target, side_effect=slow_work), caplog.at_level(logging.INFO, logger="config.lease"):
        first = threading.Thread(target=lambda: results.append(task()))
        first.start()
        assert working.wait(10), "the first run never started its work"
        second = task()  # the other beat's message, while the first run works
        finish.set()
        first.join(10)
        assert not first.is_alive()
        assert len(calls) == 1  # the work was done once
        assert second is None
        assert results == [RETURNS.get(name, result)]
        assert [r.getMessage() for r in caplog.records if r.name == "config.lease"] == [
            f"{task.run.__module__}.{task.run.__qualname__} skipped: another run holds its lease"]

        finish.set()
        again = task()  # the next scheduled run, once the first has finished: works again
    assert len(calls) == 2 and again is not None


def test_a_lease_is_released_on_exit_even_when_the_work_fails():
    with pytest.raises(RuntimeError), lease("test.failing", seconds=600) as held:
        assert held
        raise RuntimeError("the work failed")
    with lease("test.failing", seconds=600) as held:
        assert held


def test_a_crashed_runs_lease_expires_after_its_time():
    """On the real cache (Redis in CI's PostgreSQL stage): the expiry is the cache server's, so
    this waits a second of wall-clock time rather than moving a clock the server does not see."""
    with lease("test.crash", seconds=1) as held:
        assert held
        started = time.monotonic()
        # The worker dies here: the lease is never released ...
        with lease("test.crash", seconds=1) as other:
            assert not other or time.monotonic() - started >= 1
        # ... until it expires.
        while True:
            with lease("test.crash", seconds=1) as other:
                if other:
                    break
            assert time.monotonic() - started < 10, "the lease never expired"
            time.sleep(0.1)
        assert time.monotonic() - started >= 0.9
