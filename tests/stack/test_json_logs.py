"""Production logs are JSON lines carrying the request id, and no personal value reaches them.

The handler under test is the one settings.LOGGING builds for LOG_FORMAT=json (the production
default): its formatter and both filters, at the production level (INFO). A person goes through
the flows that handle the most personal data: a guest checkout, a sign-up, a "download my data"
request built by its Celery task, a guest data request, and a page that does not exist whose URL
carries an address. A real Celery worker started with LOG_FORMAT=json sends an order email and
logs through the same handler.
"""
from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from orders.models import Notification, Order
from privacy.models import ExportJob
from tests.factories import PASSWORD, ProductFactory, UserFactory

EMAIL, NAME, STREET, CITY, PHONE = "grace.hopper@example.com", "Grace Hopper", "1 Harbour Road", "Arlington", "+1 202 555 0147"
SIGNUP_EMAIL, GUEST_EMAIL, CLIENT_IP = "ada.lovelace@example.org", "mary.somerville@example.net", "203.0.113.77"
PERSONAL = [EMAIL, "grace.hopper", NAME, "Hopper", STREET, "Harbour", CITY, PHONE, "555 0147", "5550147",
            SIGNUP_EMAIL, "ada.lovelace", GUEST_EMAIL, "somerville", CLIENT_IP, "203.0.113", "%40example"]


def production_handler(stream) -> logging.Handler:
    """The console handler of settings.LOGGING under LOG_FORMAT=json, writing to `stream`."""
    config = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "filters": settings.LOGGING["filters"],
        "handlers": {"json": {"class": "logging.StreamHandler", "stream": stream, "formatter": "json",
                              "filters": ["redact_emails", "request_id"]}},
        "loggers": {"json_capture": {"handlers": ["json"], "level": "INFO", "propagate": False}},
    }
    logging.config.dictConfig(config)
    return logging.getLogger("json_capture").handlers[0]


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = production_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def assert_no_personal_value(text: str) -> None:
    lowered = text.lower()
    for value in PERSONAL:
        assert value.lower() not in lowered, value


def test_the_json_lines_of_a_request_carry_its_id_and_redact_an_address_in_its_url(client, json_log, db):
    response = client.get(f"/no-such-page/{EMAIL}/", REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 404
    records = lines(json_log)
    not_found = [r for r in records if r["logger"] == "django.request"]
    assert len(not_found) == 1, records
    assert not_found[0]["event"] == "Not Found: /no-such-page/[email redacted]/"
    assert not_found[0]["level"] == "warning"
    assert not_found[0]["request_id"] == response["X-Request-ID"] and len(response["X-Request-ID"]) == 32
    assert set(not_found[0]) == {"event", "level", "logger", "request_id", "time"}
    assert_no_personal_value(json_log.getvalue())


def test_an_exception_is_one_json_line_with_its_traceback_redacted(json_log):
    try:
        raise ValueError(f"refused {EMAIL}")
    except ValueError:
        logging.getLogger("shop.test").exception("sending to %s failed", EMAIL)
    [record] = lines(json_log)
    assert record["event"] == "sending to [email redacted] failed"
    assert "ValueError: refused [email redacted]" in record["exception"]
    assert record["request_id"] == ""  # outside a request
    assert_no_personal_value(json_log.getvalue())


@pytest.mark.promise("P15")
def test_checkout_signup_and_data_requests_leave_no_personal_value_in_the_json_log(
        client, shopper, json_log, django_capture_on_commit_callbacks, db):
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    with django_capture_on_commit_callbacks(execute=True):
        reference = shopper.buy(product, email=EMAIL, name=NAME, line1=STREET, city=CITY, phone=PHONE)
        signup = client.post(reverse("account_signup"), {"email": SIGNUP_EMAIL, "password1": PASSWORD,
                                                         "password2": PASSWORD, "adult": "on"},
                             REMOTE_ADDR=CLIENT_IP)
    assert Order.objects.get(reference=reference).status == Order.Status.PAID
    assert signup.status_code == 302
    assert {m.to[0] for m in mail.outbox} >= {EMAIL, SIGNUP_EMAIL}

    member = UserFactory(email="member@example.com")
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):  # the export task runs (eagerly) on commit
        assert client.post(reverse("privacy:export_start"), REMOTE_ADDR=CLIENT_IP).status_code == 302
    assert ExportJob.objects.get(user=member).status == ExportJob.Status.READY
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:guest_export"), {"email": GUEST_EMAIL}, REMOTE_ADDR=CLIENT_IP)
    assert GUEST_EMAIL in {m.to[0] for m in mail.outbox}

    events = [r["event"] for r in lines(json_log)]
    for task in ("orders.tasks.notification_deliver", "privacy.tasks.export_build"):  # the tasks logged
        assert any(e.startswith(f"Task {task}[") and " succeeded in " in e for e in events), events
    assert_no_personal_value(json_log.getvalue())
    assert "member@example.com" not in json_log.getvalue()
    for record in lines(json_log):  # every line is one JSON object of the fixed shape
        assert {"event", "level", "logger", "request_id", "time"} <= set(record)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.promise("P15")
def test_a_worker_in_json_mode_sends_an_order_email_and_logs_json_lines_without_personal_values(celery, shopper):
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    reference = shopper.buy(product, email=EMAIL, name=NAME, line1=STREET, city=CITY, phone=PHONE)
    worker = celery.worker(env={"LOG_FORMAT": "json"})
    note = Notification.objects.filter(order__reference=reference)
    celery.wait_until(lambda: note.filter(sent_at__isnull=False).exists(), timeout=30, what="order email sent")
    assert celery.stop(worker) == 0
    output = worker.output()
    assert [m["To"] for m in celery.emails()] == [EMAIL]
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    succeeded = [r for r in records if "orders.tasks.notification_deliver" in r["event"] and "succeeded" in r["event"]]
    assert len(succeeded) == 1, output
    assert any(r["event"].endswith(" ready.") for r in records)
    # Everything the worker printed is JSON (nothing in Celery's own plain format).
    stray = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
    assert not [line for line in stray if " INFO/" in line or "] INFO" in line or "WARNING/" in line], stray
    assert_no_personal_value(output)
