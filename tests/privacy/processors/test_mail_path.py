"""One outbound-mail path (P15): every email goes through privacy.processors.disclosure.send_personal_email,
which checks the email provider's allowed fields and records the disclosure. Proven three ways:
the code holds no other way to send (an ast scan), the tests' email backend refuses any message
the function did not stamp (tests/mail_backend.py), and each send that used to bypass it now
leaves its disclosure. Also: mail errors and log lines name no recipient, and an erasure asks
Stripe to delete the customer only once it has committed (P16)."""
from __future__ import annotations

import ast
import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery.signals import task_prerun
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.logs import RedactEmails
from orders.models import Order
from privacy.models import Disclosure, PrivacyRequest, ProcessorDeletion
from privacy.processors.disclosure import (
    STAMP,
    MailNotSent,
    UndeclaredDisclosure,
    send_personal_email,
)
from privacy.protection.crypto import email_index
from privacy.rights.erasure import STRIPE_PENDING, erase_subject, erasure_run_due, erasure_schedule
from privacy.rights.subject_requests import remind_staff, request_open, request_refuse
from shop.models import User
from tests.factories import OrderFactory, UserFactory, staff_user
from tests.fakes.smtp_server import RefusingSMTPServer
from tests.mail_backend import UnstampedEmail

pytestmark = pytest.mark.django_db

# --- 1. no other way to send, in the code --------------------------------------------------

PACKAGES = ("config", "shop", "orders", "privacy")
ONE_PATH = "privacy/processors/disclosure.py"
SENDING_NAMES = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "EmailMessage",
                 "EmailMultiAlternatives", "get_connection", "send_messages", "render_mail", "sendmail",
                 "send_message", "SMTP", "SMTP_SSL"}
# allauth renders its mails (render_mail) in the adapter, which hands them to the one path.
ALLOWED = {("shop/adapters.py", "render_mail")}


def mail_sends(source: str, path: str) -> list[str]:
    """Every way `source` could send mail by itself: mail APIs named, imported or called."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, ast.Import):
            names = ["import " + a.name for a in node.names if a.name.split(".")[0] in ("smtplib", "anymail")
                     or a.name.startswith("django.core.mail")]
        elif isinstance(node, ast.ImportFrom):  # a sending name imported is caught by its name
            module = node.module or ""
            names = [a.name for a in node.names]
            if module.startswith(("django.core.mail.backends", "smtplib", "anymail")) or (
                    module == "django.core" and "mail" in names):
                names.append("import from " + module)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "send"
                and not node.args and not any(k.arg == "sender" for k in node.keywords)):
            names.append(".send()")  # a message's send(); signals always name their sender
        found += [f"{path}:{node.lineno} {name}" for name in names
                  if (name in SENDING_NAMES or name.startswith("import ") or name == ".send()")
                  and (path, name) not in ALLOWED]
    return found


@pytest.mark.promise("P15")
def test_no_code_sends_mail_except_the_one_function():
    root = Path(settings.BASE_DIR)
    scanned, found = 0, []
    for package in PACKAGES:
        for file in sorted((root / package).rglob("*.py")):
            path = file.relative_to(root).as_posix()
            if path != ONE_PATH:
                found += mail_sends(file.read_text(), path)
                scanned += 1
    assert scanned > 50  # the whole code, not an empty folder
    assert found == []
    assert mail_sends((root / ONE_PATH).read_text(), ONE_PATH)  # where the sending is, the scan sees it


@pytest.mark.parametrize("snippet", [
    "from django.core.mail import send_mail\nsend_mail('s', 'b', None, ['a@example.com'])",
    "from django.core import mail\nmail.EmailMessage('s', 'b', to=['a@example.com']).send()",
    "from django.core.mail import get_connection as c\nc().send_messages([m])",
    "import smtplib\nsmtplib.SMTP('localhost').sendmail('a', ['b'], 'm')",
    "from django.core.mail.backends.smtp import EmailBackend\nEmailBackend().open()",
    "msg = adapter.render_mail('account/email/x', 'a@example.com', {})\nmsg.send()",
    "def notify(message):\n    message.send(fail_silently=True)",
])
def test_the_scan_finds_each_way_of_sending(snippet):
    assert mail_sends(snippet, "shop/example.py")


def test_the_scan_leaves_signals_and_the_one_function_alone():
    assert mail_sends("post_save.send(sender=Order, instance=o)\nsend_personal_email(to=a, subject=s, text=t, "
                      "fields=['user.email'])", "orders/example.py") == []


# --- 2. ... nor at run time: the tests' backend refuses unstamped mail --------------------

@pytest.mark.promise("P15")
def test_mail_sent_around_the_one_function_fails_and_reaches_nobody():
    from django.core.mail import EmailMessage, send_mail

    with pytest.raises(UnstampedEmail, match="'Hello' was sent without privacy.processors.disclosure.send_personal_email"):
        send_mail("Hello", "Body", None, ["ada@example.com"])
    with pytest.raises(UnstampedEmail):
        EmailMessage("Hello", "Body", to=["ada@example.com"]).send()
    assert mail.outbox == [] and not Disclosure.objects.exists()


@pytest.mark.promise("P15")
def test_one_email_one_recipient_one_recorded_disclosure(user):
    disclosure = send_personal_email(
        to=user.email, subject="Your order R-1 is on its way", text="Plain", html="<p>Rich</p>",
        fields=["order.email", "order.reference"], subject_user_id=user.pk, reference="R-1",
        headers={"List-Unsubscribe": "<https://shop.example/u/1>"})
    [message] = mail.outbox
    assert (message.to, message.subject, message.body) == ([user.email], "Your order R-1 is on its way", "Plain")
    assert message.alternatives[0][:2] == ("<p>Rich</p>", "text/html")
    assert message.extra_headers["List-Unsubscribe"] == "<https://shop.example/u/1>"
    assert getattr(message, STAMP) == disclosure.pk
    assert Disclosure.objects.get() == disclosure
    assert (disclosure.processor, disclosure.fields, disclosure.subject_user, disclosure.reference, disclosure.country) \
        == ("email", ["order.email", "order.reference"], user, "R-1", "IE")
    with pytest.raises(TypeError, match="one recipient"):
        send_personal_email(to=[user.email, "b@example.com"], subject="s", text="t", fields=["user.email"])
    assert len(mail.outbox) == 1 and Disclosure.objects.count() == 1


@pytest.mark.promise("P15")
def test_a_field_the_email_provider_may_not_receive_sends_nothing_and_records_nothing(user):
    with pytest.raises(UndeclaredDisclosure, match="may not receive order.phone"):
        send_personal_email(to=user.email, subject="s", text="+1 617 555 0199", fields=["user.email", "order.phone"],
                            subject_user_id=user.pk)
    assert mail.outbox == [] and not Disclosure.objects.exists()


@pytest.fixture
def refusing_smtp(settings):
    with RefusingSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = server.host, server.port, 5
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield server


def test_a_refused_recipient_is_an_error_naming_no_one_and_nothing_is_recorded(refusing_smtp, user):
    with pytest.raises(MailNotSent) as caught:
        send_personal_email(to="grace.hopper@example.com", subject="s", text="t", fields=["user.email"],
                            subject_user_id=user.pk)
    assert refusing_smtp.recipients == ["grace.hopper@example.com"]  # the server really refused her
    error = caught.value
    assert str(error) == "mail not sent (SMTPRecipientsRefused 550)" and error.codes == [550]
    assert error.__cause__ is None and error.__context__ is None  # the original, quoting her, is not attached
    assert not Disclosure.objects.exists()


# --- 3. the sends that used to bypass it now record their disclosure ------------------------

def test_erasure_notices_are_recorded_the_last_one_without_a_link_to_the_erased_person(user):
    req = erasure_schedule(user=user)
    address = user.email
    blocked = UserFactory()
    OrderFactory(user=blocked, status=Order.Status.SHIPPED)
    waiting = erasure_schedule(user=blocked)
    with time_machine.travel(timezone.now() + timedelta(days=settings.PRIVACY_ERASURE_GRACE_DAYS, minutes=1)):
        assert erasure_run_due() == 1
    assert sorted((m.subject, m.to[0]) for m in mail.outbox) == [
        ("Your account deletion is waiting for an order", blocked.email), ("Your account was deleted", address)]
    gone = Disclosure.objects.get(reference=f"request {req.pk}")
    assert (gone.subject_user_id, gone.guest_index, gone.fields) == (None, "", ["user.email"])
    assert not Disclosure.objects.filter(guest_index=email_index(address)).exists()
    assert Disclosure.objects.get(reference=f"request {waiting.pk}").subject_user == blocked


@pytest.mark.promise("P18")
def test_request_acknowledgements_and_answers_are_recorded(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:contact"), {"kind": "complaint", "email": "upset@example.com", "message": "Hm."})
    req = PrivacyRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        request_refuse(case=req, reason="We hold nothing for you.")
    assert [m.to for m in mail.outbox] == [["upset@example.com"]] * 2
    assert list(Disclosure.objects.order_by("pk").values_list("reference", "guest_index")) == \
        [(f"request {req.pk}", email_index("upset@example.com"))] * 2


def test_staff_reminders_go_to_each_officer_alone_and_are_recorded():
    officers = [staff_user("Privacy officer"), staff_user("Privacy officer")]
    request_open(kind="question", email="q@example.com", notify=False)
    PrivacyRequest.objects.update(due_at=timezone.now() - timedelta(days=1))
    assert remind_staff() == 1
    assert sorted(m.to for m in mail.outbox) == sorted([o.email] for o in officers)
    assert all("q@example.com" not in m.body for m in mail.outbox)  # ids and kinds only
    assert sorted(Disclosure.objects.values_list("subject_user", flat=True)) == sorted(o.pk for o in officers)


def test_the_guest_export_confirmation_is_recorded(client, django_capture_on_commit_callbacks):
    OrderFactory(email="guest.buyer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:guest_export"), {"email": "guest.buyer@example.com"})
    assert mail.outbox[-1].to == ["guest.buyer@example.com"]
    disclosure = Disclosure.objects.get()
    assert disclosure.guest_index == email_index("guest.buyer@example.com") and disclosure.subject_user is None


def test_allauth_mails_take_the_one_path(client, user):
    client.post(reverse("account_reset_password"), {"email": user.email})
    client.post(reverse("account_reset_password"), {"email": "nobody.here@example.com"})  # no account
    assert [m.to for m in mail.outbox] == [[user.email], ["nobody.here@example.com"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    reset, unknown = Disclosure.objects.order_by("pk")
    assert (reset.subject_user, reset.reference, reset.fields) == (user, "password_reset_key", ["user.email"])
    assert (unknown.subject_user, unknown.guest_index) == (None, email_index("nobody.here@example.com"))


# --- 4. no email address in a log line --------------------------------------------------------

def test_every_configured_log_handler_redacts_email_addresses():
    handlers = logging.getLogger().handlers + logging.getLogger("django.server").handlers
    console = [h for h in handlers if any(isinstance(f, RedactEmails) for f in h.filters)]
    assert console and all(any(isinstance(f, RedactEmails) for f in h.filters) for h in handlers
                           if not type(h).__module__.startswith("_pytest"))
    stream = io.StringIO()
    old = console[0].setStream(stream)
    try:
        try:
            raise ValueError({"grace.hopper@example.com": (550, b"Recipient address rejected")})
        except ValueError:
            logging.getLogger("shop.anything").exception("refused %s (%s)", "Ada.Lovelace@Example.org",
                                                         "/login?email=ada%40example.org")
        logging.getLogger("celery.worker").info("Connected to redis://:**@127.0.0.1:6379/5")
    finally:
        console[0].setStream(old)
    text = stream.getvalue()
    assert "grace.hopper" not in text and "Lovelace" not in text and "ada%40" not in text
    assert "refused [email redacted] (/login?email=[email redacted])" in text
    assert "ValueError: {[email redacted]" in text  # the traceback too
    assert "Connected to redis://:**@127.0.0.1:6379/5" in text  # a host is no address


# --- 5. Stripe is asked after the erasure commits (P16) -------------------------------------------

@pytest.fixture
def stripe_customer(stripe_fake, user):
    customer = stripe_fake.client().v1.customers.create(params={"metadata": {"shop_user": str(user.pk)}})
    User.objects.filter(pk=user.pk).update(stripe_customer_id=customer.id)
    user.refresh_from_db()
    return customer.id


def deletes(stripe_fake, customer: str) -> list[int]:
    return [r["status"] for r in stripe_fake.request_log() if r["method"] == "DELETE" and customer in r["path"]]


@pytest.fixture
def published_tasks():
    seen = []

    def record(sender=None, args=None, kwargs=None, **extra):
        seen.append((sender.name, tuple(args or ()), dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


@pytest.mark.promise("P16")
def test_stripe_is_asked_to_delete_the_customer_only_once_the_erasure_has_committed(
        user, stripe_customer, stripe_fake, published_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        report = erase_subject(user=user)
    assert "stripe: deletion requested" in report.processors
    assert deletes(stripe_fake, stripe_customer) == []  # not while the erasure's transaction is open
    assert ProcessorDeletion.objects.get(processor="stripe").outcome == STRIPE_PENDING
    for callback in callbacks:
        callback()
    deletion = ProcessorDeletion.objects.get(processor="stripe")
    assert (deletion.outcome, deletion.reference, deletion.subject_user_id) == ("deleted", stripe_customer, user.pk)
    assert deletes(stripe_fake, stripe_customer) == [200]
    assert published_tasks == [("privacy.tasks.stripe_customer_delete", (deletion.pk,), {})]  # an id, nothing else


@pytest.mark.promise("P16")
def test_a_rolled_back_erasure_leaves_the_stripe_customer_alone(
        user, stripe_customer, stripe_fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            erase_subject(user=user)
            raise RuntimeError("something after the erasure failed")
    assert User.objects.filter(pk=user.pk).exists() and not ProcessorDeletion.objects.exists()
    assert deletes(stripe_fake, stripe_customer) == []
    assert stripe_fake.client().v1.customers.retrieve(stripe_customer).id == stripe_customer


@pytest.fixture
def eager_retries():
    """Eager tasks run their retries at once, through Celery's own retry (not re-raised)."""
    from config import celery_app

    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = propagates


@pytest.mark.promise("P16")
def test_stripe_failing_is_retried_and_the_outcome_recorded(
        user, stripe_customer, stripe_fake, eager_retries, django_capture_on_commit_callbacks):
    stripe_fake.fail_next(2, status=500)
    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=user)
    assert deletes(stripe_fake, stripe_customer) == [500, 500, 200]
    assert ProcessorDeletion.objects.get(processor="stripe").outcome == "deleted"
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.promise("P16")
def test_stripe_down_for_good_is_recorded_for_staff_and_the_erasure_stands(
        user, stripe_customer, stripe_fake, eager_retries, django_capture_on_commit_callbacks):
    stripe_fake.fail_next(50, status=503)
    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=user)
    from privacy.tasks import STRIPE_DELETION_RETRIES

    assert len(deletes(stripe_fake, stripe_customer)) == STRIPE_DELETION_RETRIES + 1
    assert ProcessorDeletion.objects.get(processor="stripe").outcome == "failed (APIError); retry by hand"
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.promise("P16")
def test_a_deletion_left_pending_is_queued_again_by_the_daily_run(stripe_fake):
    customer = stripe_fake.client().v1.customers.create().id
    stale = ProcessorDeletion.objects.create(processor="stripe", reference=customer, outcome=STRIPE_PENDING,
                                             requested_at=timezone.now() - timedelta(hours=2))
    fresh = ProcessorDeletion.objects.create(processor="stripe", reference="cus_still_retrying", outcome=STRIPE_PENDING)
    erasure_run_due()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.outcome, fresh.outcome) == ("deleted", STRIPE_PENDING)
    assert deletes(stripe_fake, customer) == [200] and deletes(stripe_fake, "cus_still_retrying") == []
