"""The proxy polls /healthz/ every few seconds: it must not count as a page view, even for a
visitor who allowed anonymous statistics, and it answers with nothing personal.

Asked over HTTP of the live server, as the proxy asks (see tests/test_health.py for why)."""
from __future__ import annotations

import urllib.request

import pytest
from django.test import Client
from django.urls import reverse

from privacy.models import DailyPageViews, DailyProductViews
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def get(live_server, path: str, cookie: str):
    request = urllib.request.Request(live_server.url + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.headers, answer.read().decode()


@pytest.mark.promise("P9")
def test_the_health_check_is_not_a_page_view_and_shows_nothing_personal(live_server):
    UserFactory(email="polled.person@example.com")
    product = ProductFactory(name="Walnut Desk Lamp")
    visitor = Client()
    visitor.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on"})  # statistics allowed
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in visitor.cookies.items())

    for _ in range(3):
        status, headers, body = get(live_server, reverse("health") + "?format=json", cookie)
        assert status == 200
        assert "Set-Cookie" not in headers
        for value in ("polled.person", "example.com", "Walnut"):
            assert value not in body
    assert not DailyPageViews.objects.exists() and not DailyProductViews.objects.exists()

    # The same visitor's page view is counted: the consent was there, only the health check is not.
    status, _, _ = get(live_server, product.get_absolute_url(), cookie)
    assert status == 200
    assert list(DailyPageViews.objects.values_list("path", "views")) == [("shop:product_detail", 1)]
