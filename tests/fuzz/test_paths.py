"""Fuzz the token and reference URLs (order links, conversation links, email confirmation,
unsubscribe, data downloads, policy versions), a few query strings that are echoed into forms,
and the Stripe webhook: never a 500, garbage finds nothing and changes nothing."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import event, example, given
from hypothesis import strategies as st

from orders.links import guest_order_token
from tests.factories import OrderFactory
from tests.fuzz.hostile import (
    MARKUP,
    assert_no_raw_markup,
    assert_not_5xx,
    assert_unchanged,
    fuzz,
    hostile_text,
    isolated,
    snapshot,
)

pytestmark = pytest.mark.django_db

GET_ROUTES = ["orders:detail", "orders:pay", "orders:thanks", "orders:return", "orders:payment_return",
              "orders:guest_detail", "orders:guest_return", "orders:guest_thread", "privacy:version", "privacy:diff",
              "privacy:marketing_confirm", "privacy:unsubscribe", "privacy:guest_export_confirm",
              "privacy:guest_download", "privacy:export_download", "shop:product_detail"]
POST_ROUTES = ["privacy:unsubscribe", "privacy:marketing_confirm", "privacy:guest_export_confirm",
               "orders:pay_offline", "orders:return", "privacy:acknowledge"]


def tokens(real: str):
    """Garbage, and near misses of a real signed token."""
    return st.one_of(
        hostile_text().filter(lambda s: s.strip()),
        st.sampled_from(MARKUP),
        st.builds(lambda i, c: real[:i] + c + real[i + 1:], st.integers(0, len(real) - 1),
                  st.sampled_from("aZ0:-_")),
        st.sampled_from([real + "x", real[:-1], real.upper(), real + ":" + real, "..", "%2e%2e", "0", "-1"]),
    )


@pytest.fixture
def real_token(db):
    return guest_order_token(OrderFactory())


def test_the_real_order_link_works(anon, real_token):
    """The near misses below are near misses of a working link."""
    assert anon.get(reverse("orders:guest_detail", args=[real_token])).status_code == 200


@fuzz(80)
@given(data=st.data())
def test_token_urls_find_nothing_and_change_nothing(anon, member, real_token, data):
    real = real_token
    method = data.draw(st.sampled_from(["GET", "GET", "POST"]), label="method")
    route = data.draw(st.sampled_from(GET_ROUTES if method == "GET" else POST_ROUTES), label="route")
    token = data.draw(tokens(real), label="token")
    client = data.draw(st.sampled_from([anon, member]), label="client")
    # A placeholder every converter accepts (an order reference's 12 capitals and digits).
    path = reverse(route, args=["PLACEHOLDER0"]).replace("PLACEHOLDER0", quote(token, safe=""))
    with isolated(*([anon] if client is anon else [])):
        before = snapshot()
        response = client.get(path) if method == "GET" else client.post(path, {"next": "/"})
        assert_not_5xx(response, f"{method} {path}")
        event(f"{method} {route}: {response.status_code}")
        if token != real:
            assert response.status_code in (302, 400, 404, 405), f"{method} {path}: {response.status_code}"
        assert_no_raw_markup(response, path)
        assert_unchanged(before, f"by {method} {path}")


@fuzz(40)
@given(order=st.one_of(hostile_text(), st.sampled_from(MARKUP)),
       address=st.one_of(hostile_text(), st.integers(-2**40, 2**40).map(str)),
       kind=st.one_of(hostile_text(), st.sampled_from(["question", "erasure"])))
@example(order='"><img src=x onerror=alert(fz)>', address="1", kind="<fz-tag>")
def test_query_strings_echoed_into_forms_are_escaped(anon, member, fuzz_catalogue, order, address, kind):
    from shop.models import Cart, CartItem

    with isolated(anon):
        CartItem.objects.create(cart=Cart.objects.create(user=member.user), product=fuzz_catalogue[0], quantity=1)
        pages = [(anon.get(reverse("orders:support"), {"order": order}), [order]),
                 (member.get(reverse("orders:support"), {"order": order}), [order]),
                 (anon.get(reverse("privacy:contact"), {"order": order, "kind": kind}), [order, kind]),
                 (member.get(reverse("orders:checkout"), {"address": address}), [address]),
                 (anon.get(reverse("privacy:cookies"), {"next": order}), [order])]
        for page, sent in pages:
            assert_not_5xx(page, "GET with a hostile query string")
            # A NUL no database could store is refused at the door (config.middleware), the rest echoed.
            assert page.status_code == (400 if any("\x00" in value for value in sent) else 200)
            assert_no_raw_markup(page, "a form echoing the query string")


@fuzz(30)
@given(payload=st.one_of(st.binary(max_size=200), hostile_text().map(str.encode),
                         st.just(b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}')),
       signature=st.one_of(st.just(""), hostile_text(), st.just("t=1,v1=deadbeef"),
                           st.integers(0, 2**40).map(lambda t: f"t={t},v1={'0' * 64}")))
def test_stripe_webhook_refuses_unsigned_payloads(anon, settings, payload, signature):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz_secret"
    headers = {"Stripe-Signature": signature} if signature.isprintable() and "\n" not in signature else {}
    with isolated(anon):
        before = snapshot()
        response = anon.post(reverse("orders:stripe_webhook"), payload, content_type="application/json",
                             headers=headers)
        assert_not_5xx(response, f"webhook {payload[:60]!r} {signature[:60]!r}")
        assert response.status_code == 400
        assert_unchanged(before, "by an unsigned webhook")
