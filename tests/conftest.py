"""Shared fixtures. Every test runs on a real database (SQLite, or PostgreSQL when
DATABASE_URL says so); files go to per-test temporary folders."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, CategoryFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _private_folders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _one_mail_path(settings):
    """Every email must come through the one send function (tests/mail_backend.py)."""
    settings.EMAIL_BACKEND = "tests.mail_backend.OnePathEmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def product(db):
    return ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def catalogue(db):
    cats = [CategoryFactory(name=n) for n in ("Kitchen", "Garden", "Books")]
    return [ProductFactory(category=cats[i % 3], name=f"Item {i:03d}", price=f"{10 + i}.00") for i in range(30)]


class Shopper:
    """Drives the storefront through the test client as a person would."""

    def __init__(self, client):
        self.client = client

    def add(self, product, quantity=1, follow=False):
        return self.client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": quantity}, follow=follow)

    def fingerprint(self) -> str:
        page = self.client.get(reverse("orders:checkout")).content.decode()
        return re.search(r'name="fingerprint" value="(\w+)"', page).group(1)

    def checkout(self, **overrides):
        data = {"email": "guest@example.com", "name": "Grace Hopper", "line1": "1 Harbour Road",
                "line2": "", "city": "Arlington", "postal_code": "22201", "region": "VA", "country": "US",
                "phone": "", "fingerprint": self.fingerprint()}
        data.update(overrides)
        return self.client.post(reverse("orders:checkout"), data)

    def pay_offline(self, reference: str):
        return self.client.post(reverse("orders:pay_offline", args=[reference]))

    def buy(self, product, quantity=1, **details):
        self.add(product, quantity)
        response = self.checkout(**details)
        assert response.status_code == 302, response.content.decode()[:2000]
        reference = response["Location"].split("/")[2]
        self.pay_offline(reference)
        return reference


@pytest.fixture
def shopper(client):
    return Shopper(client)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def _fake_stripe_server():
    from tests.fakes.stripe_server import FakeStripe

    server = FakeStripe()
    yield server
    server.stop()


@pytest.fixture
def stripe_fake(_fake_stripe_server, settings):
    """The shop configured for Stripe, talking to a local stateful fake of its API."""
    _fake_stripe_server.reset()
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = _fake_stripe_server.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    settings.STRIPE_API_BASE = _fake_stripe_server.base_url
    return _fake_stripe_server


@pytest.fixture
def staff_member(db):
    """staff_member("Customer service") → a staff user holding that role, with MFA set up."""
    from tests.factories import staff_user

    return staff_user


@pytest.fixture
def staff_client(client, staff_member):
    def make(role: str | None = None, **extra):
        user = staff_member(role, **extra)
        client.force_login(user)
        client.user = user
        return client

    return make


# --- the key store (privacy.protection.keystore) -----------------------------------------
# Personal fields open with keys from the "keys" database alias. Every test that may touch the
# database gets both aliases (wrapped in the same per-test transaction or flush), so no test has
# to name the key store; the per-process key cache starts empty each test.
_DB_FIXTURES = ("db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback")


def pytest_collection_modifyitems(items):
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and not any(name in item.fixturenames for name in _DB_FIXTURES):
            continue
        args, kwargs = (marker.args, dict(marker.kwargs)) if marker else ((), {})
        kwargs["databases"] = "__all__"
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from privacy.protection.keystore import forget_cache

    forget_cache()
    yield
    forget_cache()
