"""Self-test: the fake Stripe server works with the real `stripe` library."""

import json
import time
from pathlib import Path

import pytest
import stripe

from .stripe_server import FakeStripe, confirm_intent, signed_webhook

INTENT = {
    "amount": 2599,
    "currency": "usd",
    "payment_method_types": ["card"],
    "metadata": {"order_reference": "ABC"},
    "description": "Order ABC",
}


@pytest.fixture(scope="module")
def server():
    started = time.monotonic()
    fake = FakeStripe()
    assert time.monotonic() - started < 3
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def client(fake):
    return fake.client()


def create_intent(client, key="order-ABC-intent-0", **params):
    return client.v1.payment_intents.create(
        params={**INTENT, **params}, options={"idempotency_key": key}
    )


def all_intents(client):
    return client.v1.payment_intents.list().data


def test_listens_on_loopback_only(fake):
    port = int(fake.base_url.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A = LISTEN
                listening.append(addr)
    assert listening == ["0100007F"]  # 127.0.0.1, IPv4 only


def test_create_is_idempotent(client):
    intent = create_intent(client)
    assert intent.id.startswith("pi_") and intent.client_secret
    assert (intent.status, intent.amount, intent.description) == (
        "requires_payment_method", 2599, "Order ABC")
    assert intent.metadata["order_reference"] == "ABC"
    assert create_intent(client).id == intent.id
    assert [i.id for i in all_intents(client)] == [intent.id]
    with pytest.raises(stripe.IdempotencyError):  # same key, different params
        create_intent(client, amount=1)


def test_confirm_with_test_token_then_retrieve_expanded(client):
    intent = create_intent(client)
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert (confirmed.status, confirmed.amount_received) == ("succeeded", 2599)
    assert isinstance(confirmed.latest_charge, str)  # not expanded unless asked
    again = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert again.status == "succeeded"
    assert again.latest_charge.id == confirmed.latest_charge
    assert (again.latest_charge.amount, again.latest_charge.paid) == (2599, True)


def test_confirm_helper_success_and_decline_then_retry(client):
    ok = confirm_intent(client, create_intent(client, key="a").id)
    assert (ok.status, ok.amount_received) == ("succeeded", 2599)

    intent = create_intent(client, key="b")
    declined = confirm_intent(client, intent.id, decline=True)
    assert declined.status == "requires_payment_method"
    assert declined.amount_received == 0
    assert declined.last_payment_error["code"] == "card_declined"
    with pytest.raises(stripe.CardError) as exc:  # what the raw API call raises
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa_chargeDeclined"}
        )
    assert exc.value.code == "card_declined"

    retried = confirm_intent(client, intent.id)  # customer tries another card
    assert (retried.status, retried.amount_received) == ("succeeded", 2599)


def test_partial_refund_is_idempotent(client):
    intent = confirm_intent(client, create_intent(client).id)
    opts = {"idempotency_key": "order-ABC-refund-0"}
    params = {"payment_intent": intent.id, "amount": 500}
    refund = client.v1.refunds.create(params=params, options=opts)
    assert (refund.object, refund.amount, refund.status) == ("refund", 500, "succeeded")
    assert client.v1.refunds.create(params=params, options=opts).id == refund.id
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    charge = expanded.latest_charge
    assert charge.amount_refunded == 500
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2100})


def test_customer_create_delete(client):
    customer = client.v1.customers.create(params={"email": "a@example.com", "name": "A"})
    assert customer.id.startswith("cus_")
    assert client.v1.customers.delete(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(customer.id)


def test_stripe_erroring_then_retry_charges_once(fake, client):
    fake.fail_next(2, status=500)
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            create_intent(client)
    assert all_intents(client) == []  # nothing happened on Stripe's side
    intent = create_intent(client)  # customer retries: works
    assert [i.id for i in all_intents(client)] == [intent.id]
    assert [e["status"] for e in fake.request_log()][:3] == [500, 500, 200]


def test_stripe_slow_then_retry_charges_once(fake):
    impatient = fake.client(http_client=stripe.RequestsClient(timeout=0.3))
    fake.fail_next(1, status=None, delay=0.8)  # work is done, answer comes too late
    with pytest.raises(stripe.APIConnectionError):
        create_intent(impatient)
    client = fake.client()
    intent = create_intent(client)  # retry with the same key replays the first result
    assert [i.id for i in all_intents(client)] == [intent.id]
    assert fake.request_log()[1]["replayed"] is True


def test_reset_forgets_everything(fake, client):
    first = create_intent(client)
    fake.reset()
    assert all_intents(client) == []
    assert create_intent(client).id != first.id


def test_signed_webhook_verifies():
    body, header = signed_webhook({"id": "evt_1", "object": "event", "type": "x"}, "whsec_test")
    event = stripe.Webhook.construct_event(body, header, "whsec_test")
    assert event.id == "evt_1" and json.loads(body)["type"] == "x"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other")
