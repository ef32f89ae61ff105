"""The payment page's frame-src: 'none' unless Stripe takes the payment, then Stripe's origins alone
(Chrome ignores a frame-src that mixes 'none' with sources)."""
import pytest
from django.urls import reverse

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    out = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def pay_page(shopper, client):
    shopper.add(ProductFactory(price="12.00", stock=5))
    response = shopper.checkout()
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page


def test_with_stripe_the_payment_page_frames_only_stripe(stripe_fake, shopper, client):
    csp = policy(pay_page(shopper, client))
    assert csp["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert "'none'" not in csp["frame-src"]
    assert csp["frame-ancestors"] == ["'none'"]  # nobody frames us, Stripe or not
    assert "https://js.stripe.com" in csp["script-src"] and "'self'" in csp["script-src"]


def test_without_stripe_the_payment_page_loads_and_frames_nothing_from_anyone(settings, shopper, client):
    settings.PAYMENT_GATEWAY = "offline"
    page = pay_page(shopper, client)
    csp = policy(page)
    assert csp["frame-src"] == ["'none'"]
    assert "stripe" not in page.headers["Content-Security-Policy"]
    assert "Pay $12.00 (test payment)" in page.content.decode()


@pytest.mark.parametrize("url", ["shop:home", "shop:cart", "privacy:cookies"])
def test_other_pages_frame_nothing(client, url, stripe_fake):
    csp = policy(client.get(reverse(url)))
    assert csp["frame-src"] == ["'none'"]
