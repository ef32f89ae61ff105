"""The erasure receipt (P13, P16, P17): what was deleted, what is kept without the person's
details and until when, what a legal hold keeps, which processors were told and what they
answered; emailed, on its own page while the link lives, and on the request for staff. It
holds no value of the person."""
import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, Payment
from privacy.consent import ledger as consent
from privacy.models import ConsentRecord, ErasureReceipt, PrivacyRequest, ProcessorDeletion
from privacy.processors.disclosure import disclose
from privacy.rights.erasure import erasure_run_due, erasure_schedule, stripe_deletion_run
from shop.models import Address, User
from tests.factories import OrderFactory, UserFactory, staff_user
from tests.legal_holds import hold_on
from tests.privacy.rights.sample_person import VALUES

pytestmark = pytest.mark.django_db

HOLD_REASON = "Claim 2041 by a competitor"  # the investigation's details: staff only


@pytest.fixture
def leaving(stripe_fake):
    """A customer with a completed order (kept for accounting), a second order under a legal
    hold, a saved address and a customer record at Stripe."""
    v = VALUES
    user = UserFactory(email=v["email"], name=v["name"], phone=v["phone"])
    customer = stripe_fake.client().v1.customers.create()
    User.objects.filter(pk=user.pk).update(stripe_customer_id=customer.id)
    user.refresh_from_db()
    Address.objects.create(user=user, name=v["name"], line1=v["line1"], city=v["city"], postal_code=v["postal_code"],
                           country="US", phone=v["phone"])
    kept, held = [OrderFactory(user=user, email=v["email"], shipping_name=v["name"], shipping_line1=v["line1"],
                               shipping_city=v["city"], phone=v["phone"], status=Order.Status.COMPLETED,
                               completed_at=timezone.now()) for _ in range(2)]
    Payment.objects.create(order=kept, gateway="stripe", intent_id="pi_receipt_kept", amount=kept.total,
                           status="succeeded", card_brand="visa", card_last4="4242")
    hold = hold_on(order=held, by=staff_user("Legal"))
    consent.record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, channel="dashboard", user=user)
    for processor, field in (("email", "user.email"), ("carrier", "order.shipping_name")):  # as the orders did
        disclose(processor=processor, fields=[field], subject_user_id=user.pk, reference=kept.reference)
    user.test_orders, user.test_hold, user.test_customer = (kept, held), hold, customer.id
    return user


def _erase_after_grace(user, callbacks_fixture):
    erasure_schedule(user=user)
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)):
        with callbacks_fixture() as callbacks:  # the Stripe task waits until we run it
            assert erasure_run_due() == 1
    return callbacks


def _no_personal_value(text: str) -> None:
    lowered = text.lower()
    found = [v for v in [*VALUES.values(), HOLD_REASON] if v.lower() in lowered]
    assert found == []


@pytest.mark.promise("P13")
@pytest.mark.promise("P16")
@pytest.mark.promise("P17")
def test_the_receipt_lists_what_went_what_stays_until_when_the_hold_and_stripe(leaving,
                                                                                django_capture_on_commit_callbacks):
    kept_order, held_order = leaving.test_orders
    callbacks = _erase_after_grace(leaving, django_capture_on_commit_callbacks)
    case = PrivacyRequest.objects.get(kind="erasure")
    receipt = ErasureReceipt.objects.get(request=case)
    body = receipt.body
    deleted = {d["label"]: d["count"] for d in body["deleted"]}
    assert deleted["shop.User"] == 1 and deleted["shop.Address"] == 1
    kept = {k["label"]: k for k in body["kept"]}
    assert kept["orders.Order"]["count"] == 1  # the held order is not anonymised
    assert "Accounting law" in kept["orders.Order"]["why"] and "shipping name" in kept["orders.Order"]["removed"]
    assert kept["orders.Payment"]["kept_fields"][0]["field"] == "intent id"
    assert "kept for accounting" in kept["orders.Payment"]["kept_fields"][0]["reason"]
    assert "email index" not in kept["orders.Order"]["removed"]  # technical fields go unnamed
    proof = kept["privacy.ConsentRecord"]  # a deletion rule reaches it: the receipt gives the date
    recorded = ConsentRecord.objects.filter(user__isnull=True).latest("at").at
    assert proof["until"][:10] == (recorded + timedelta(days=3 * 365)).date().isoformat()
    assert "3 years" in proof["until_rule"] and kept["orders.Order"]["until"] is None  # no rule deletes orders
    assert {h["label"]: h["count"] for h in body["held"]}["orders.Order"] == 1
    [hold] = body["holds"]
    assert hold["reference"] == held_order.reference and hold["basis"] == "Establishing and defending legal claims"
    assert hold["until"][:10] == leaving.test_hold.expires_at.date().isoformat()
    processors = {p["processor"]: p for p in body["processors"]}
    assert processors["stripe"]["state"] == "pending"
    assert processors["email"]["state"] == "done" and "contract" in processors["email"]["answer"]
    _no_personal_value(json.dumps(body))
    assert leaving.test_customer not in json.dumps(body)  # the Stripe customer id is not on it either

    # The email carries the receipt, text and HTML, with the link to its page.
    message = mail.outbox[-1]
    assert message.subject == "Your account was deleted" and message.to == [VALUES["email"]]
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert held_order.reference in part and "Establishing and defending legal claims" in part
        assert "Stripe, Inc." in part and "pending" in part and "addresses" in part.lower()
        assert "Accounting law" in part and receipt.token in part
        _no_personal_value(part.replace(VALUES["email"], "") if part is message.body else part)
    assert "<table" in html and "You got this email from" in html  # the shop's one email layout
    assert VALUES["email"] not in message.body  # to the address, but not written in it

    # Stripe's answer arrives: the stored receipt and its page say so.
    for callback in callbacks:
        callback()
    assert ProcessorDeletion.objects.get(processor="stripe").outcome == "deleted"
    receipt.refresh_from_db()
    assert {p["processor"]: p["state"] for p in receipt.body["processors"]}["stripe"] == "done"
    page = Client().get(reverse("privacy:erasure_receipt", args=[receipt.token]))
    text = page.content.decode()
    assert page.status_code == 200 and "done" in text and held_order.reference in text and "Kept without" in text
    assert page["Cache-Control"] == "no-store"
    _no_personal_value(text)


@pytest.mark.promise("P17")
def test_the_receipt_page_lives_only_while_its_link_does_and_only_for_its_token(leaving,
                                                                                 django_capture_on_commit_callbacks):
    _erase_after_grace(leaving, django_capture_on_commit_callbacks)
    receipt = ErasureReceipt.objects.get()
    url = reverse("privacy:erasure_receipt", args=[receipt.token])
    assert Client().get(url).status_code == 200
    assert Client().get(reverse("privacy:erasure_receipt", args=["0" * 32])).status_code == 404
    with time_machine.travel(receipt.link_expires_at + timedelta(minutes=1)):
        assert Client().get(url).status_code == 404
    assert ErasureReceipt.objects.filter(pk=receipt.pk).exists()  # staff keep seeing it on the request


@pytest.mark.promise("P17")
def test_staff_see_the_same_receipt_on_the_request(leaving, client, django_capture_on_commit_callbacks):
    _erase_after_grace(leaving, django_capture_on_commit_callbacks)
    case = PrivacyRequest.objects.get(kind="erasure")
    client.force_login(staff_user("Privacy officer"))
    page = client.get(reverse("admin:privacy_privacyrequest_change", args=[case.pk])).content.decode()
    assert "erasure receipt" in page.lower() and "Stripe, Inc." in page
    assert leaving.test_orders[1].reference in page and "Kept without your details" in page
    other = PrivacyRequest.objects.create(kind="question", due_at=timezone.now())
    assert "Kept without your details" not in client.get(
        reverse("admin:privacy_privacyrequest_change", args=[other.pk])).content.decode()


@pytest.mark.promise("P16")
@pytest.mark.promise("P17")
def test_a_guardians_request_erased_by_staff_sends_the_receipt_to_the_guardian(leaving, client,
                                                                                django_capture_on_commit_callbacks):
    Order.objects.filter(pk=leaving.test_orders[0].pk).update(status=Order.Status.PAID)  # goes ahead even so
    client.force_login(staff_user("Privacy officer"))
    client.post(reverse("admin:privacy_privacyrequest_add"), {"kind": "guardian", "verified_by": "guardian_documents"})
    case = PrivacyRequest.objects.get(kind="guardian")
    PrivacyRequest.objects.filter(pk=case.pk).update(requester_email="guardian@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_erase", args=[case.pk]), {"email": VALUES["email"], "confirm": "on"})
    assert not User.objects.filter(pk=leaving.pk).exists()
    receipt = ErasureReceipt.objects.get(request=case)
    assert {p["processor"]: p["state"] for p in receipt.body["processors"]}["stripe"] == "done"  # task ran
    [message] = [m for m in mail.outbox if m.to == ["guardian@example.com"]]
    assert message.subject == f"Our answer to your request #{case.pk}" and "erased as you asked" in message.body
    assert receipt.token in message.body and "Stripe, Inc." in message.body
    _no_personal_value(message.body)


@pytest.mark.promise("P17")
def test_a_failed_processor_deletion_shows_as_failed_on_the_receipt(leaving, django_capture_on_commit_callbacks,
                                                                    settings):
    _erase_after_grace(leaving, django_capture_on_commit_callbacks)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    deletion = ProcessorDeletion.objects.get(processor="stripe")
    assert stripe_deletion_run(deletion_id=deletion.pk, last_attempt=False) is False  # retried later: still pending
    assert {p["processor"]: p["state"] for p in ErasureReceipt.objects.get().body["processors"]}["stripe"] == "pending"
    assert stripe_deletion_run(deletion_id=deletion.pk, last_attempt=True) is True  # the task's last attempt
    outcome = ProcessorDeletion.objects.get(processor="stripe").outcome
    assert outcome.startswith("failed")
    receipt = ErasureReceipt.objects.get()
    assert {p["processor"]: p["state"] for p in receipt.body["processors"]}["stripe"] == "failed"
