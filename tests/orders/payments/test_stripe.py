"""Stripe through the real `stripe` library against a local stateful fake of its API,
with webhooks signed locally with a test secret."""
import json
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order, Payment, WebhookEvent
from tests.fakes.stripe_server import confirm_intent, signed_webhook

pytestmark = pytest.mark.django_db
WEBHOOK = reverse("orders:stripe_webhook")


def place(shopper, product, quantity=1):
    shopper.add(product, quantity)
    return shopper.checkout()["Location"].split("/")[2]


def event_for(intent, kind="payment_intent.succeeded", event_id="evt_1"):
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
            "data": {"object": intent if isinstance(intent, dict) else intent.to_dict()}}


def post_event(client, event, secret="whsec_test_secret"):
    body, header = signed_webhook(event, secret)
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture
def paid_intent(client, shopper, product, stripe_fake):
    """An order whose PaymentIntent the shopper's browser has confirmed with Stripe."""
    reference = place(shopper, product, 2)
    page = client.get(reverse("orders:pay", args=[reference]))
    assert page.status_code == 200
    payment = Payment.objects.get(order__reference=reference)
    intent = confirm_intent(stripe_fake.client(), payment.intent_id)
    assert intent.status == "succeeded"
    return reference, intent


@pytest.mark.promise("P4")
def test_payment_page_creates_one_intent_and_sends_stripe_no_personal_data(client, shopper, product, stripe_fake):
    reference = place(shopper, product, 2)
    first = client.get(reverse("orders:pay", args=[reference]))
    client.get(reverse("orders:pay", args=[reference]))  # reload: same intent, no second charge
    body = first.content.decode()
    payment = Payment.objects.get()
    assert payment.amount == Decimal("99.00") and payment.currency == "USD"
    assert 'data-client-secret="pi_' in body and "https://js.stripe.com/v3/" in body
    assert "card-number" not in body and 'name="card' not in body  # no card field of ours
    intent = stripe_fake.client().v1.payment_intents.retrieve(payment.intent_id)
    assert (intent.amount, intent.currency) == (9900, "usd")
    assert intent.metadata.to_dict() == {"order_reference": reference}
    creates = [r for r in stripe_fake.request_log() if r["method"] == "POST" and r["path"] == "/v1/payment_intents"]
    assert len(creates) == 1
    sent = json.dumps(creates)
    for value in ("guest@example.com", "Grace", "Harbour", "Arlington"):
        assert value not in sent


def test_payment_page_allows_stripe_only_where_needed(client, shopper, product, stripe_fake):
    reference = place(shopper, product)
    csp = client.get(reverse("orders:pay", args=[reference]))["Content-Security-Policy"]
    assert "https://js.stripe.com" in csp
    assert "https://js.stripe.com" not in client.get(reverse("shop:cart"))["Content-Security-Policy"]


@pytest.mark.promise("P4")
def test_signed_webhook_marks_the_order_paid_once(client, paid_intent, django_capture_on_commit_callbacks):
    reference, intent = paid_intent
    with django_capture_on_commit_callbacks(execute=True):
        first = post_event(client, event_for(intent))
        second = post_event(client, event_for(intent))
    assert (first.status_code, first.content) == (200, b"applied")
    assert (second.status_code, second.content) == (200, b"duplicate")
    order = Order.objects.get(reference=reference)
    assert order.status == Order.Status.PAID
    assert order.status_changes.filter(to_status="paid").count() == 1
    assert WebhookEvent.objects.count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == f"Your order {reference} is confirmed"
    payment = order.payments.get()
    assert payment.amount_received == Decimal("99.00")
    assert set(vars(payment)) & {"card_number", "cvc", "exp_month"} == set()


def test_a_new_event_for_an_already_paid_order_changes_nothing(client, paid_intent):
    reference, intent = paid_intent
    post_event(client, event_for(intent, event_id="evt_a"))
    post_event(client, event_for(intent, event_id="evt_b"))
    failed = dict(intent.to_dict(), status="requires_payment_method", last_payment_error={"message": "late decline"})
    post_event(client, event_for(failed, kind="payment_intent.payment_failed", event_id="evt_c"))
    order = Order.objects.get(reference=reference)
    assert order.status == Order.Status.PAID
    assert order.status_changes.filter(to_status="paid").count() == 1
    assert order.payments.get().status == Payment.Status.SUCCEEDED


@pytest.mark.parametrize("secret", ["whsec_wrong", ""])
def test_bad_signature_is_400_and_changes_nothing(client, paid_intent, secret):
    reference, intent = paid_intent
    if secret:
        response = post_event(client, event_for(intent), secret=secret)
    else:
        response = client.post(WEBHOOK, json.dumps(event_for(intent)), content_type="application/json")
    assert response.status_code == 400
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT
    assert not WebhookEvent.objects.exists()


def test_an_old_signed_event_is_refused(client, paid_intent):
    import stripe

    reference, intent = paid_intent
    payload = json.dumps(event_for(intent))
    header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_test_secret",
                                                                timestamp=int(time.time()) - 3600)
    response = client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT


def test_out_of_order_failure_then_success_ends_paid(client, paid_intent):
    reference, intent = paid_intent
    failed = dict(intent.to_dict(), status="requires_payment_method", last_payment_error={"message": "Card declined"})
    post_event(client, event_for(failed, kind="payment_intent.payment_failed", event_id="evt_fail"))
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT
    post_event(client, event_for(intent, event_id="evt_ok"))
    assert Order.objects.get(reference=reference).status == Order.Status.PAID


def test_amount_mismatch_never_marks_paid(client, paid_intent):
    reference, intent = paid_intent
    short = dict(intent.to_dict(), amount_received=100)
    post_event(client, event_for(short))
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT


def test_return_from_stripe_confirms_even_before_the_webhook(client, paid_intent):
    reference, _ = paid_intent
    response = client.get(reverse("orders:payment_return", args=[reference]), follow=True)
    assert Order.objects.get(reference=reference).status == Order.Status.PAID
    assert "Thank you for your order" in response.content.decode()


def test_declined_card_leaves_the_order_payable(client, shopper, product, stripe_fake):
    reference = place(shopper, product)
    client.get(reverse("orders:pay", args=[reference]))
    payment = Payment.objects.get()
    intent = confirm_intent(stripe_fake.client(), payment.intent_id, decline=True)
    assert intent.status == "requires_payment_method"
    client.get(reverse("orders:payment_return", args=[reference]))
    order = Order.objects.get(reference=reference)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert "Complete payment" in client.get(reverse("orders:thanks", args=[reference])).content.decode()
    retry = client.get(reverse("orders:pay", args=[reference]))
    assert retry.status_code == 200


def test_stripe_down_shows_a_clear_message_and_a_retry_charges_once(client, shopper, product, stripe_fake):
    reference = place(shopper, product)
    stripe_fake.fail_next(1, status=500)
    down = client.get(reverse("orders:pay", args=[reference]))
    assert down.status_code == 503
    assert "The payment service is not answering right now" in down.content.decode()
    assert "Nothing was charged" in down.content.decode()
    assert not Payment.objects.exists()
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT
    again = client.get(reverse("orders:pay", args=[reference]))
    assert again.status_code == 200
    assert Payment.objects.count() == 1
    intents = stripe_fake.client().v1.payment_intents.list()
    assert len(intents.data) == 1


def test_offline_payment_is_refused_when_stripe_is_the_gateway(client, shopper, product, stripe_fake):
    reference = place(shopper, product)
    assert shopper.pay_offline(reference).status_code == 404
    assert Order.objects.get(reference=reference).status == Order.Status.PENDING_PAYMENT
