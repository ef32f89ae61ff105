"""Shared fixtures. Every test runs on a real database (SQLite, or PostgreSQL when
DATABASE_URL says so); files go to per-test temporary folders."""
from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, CategoryFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _private_folders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3-compatible server on 127.0.0.1 (a subprocess), once per test run:
    a real HTTP server the storage code reaches through boto3, as it would a production bucket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


class PrivateStore:
    """The private storage a test runs against, and a raw view of everything stored in it
    (bypassing our code: the folder's files, or the bucket's objects over S3's own API)."""

    def __init__(self, kind: str, root: Path | None = None, client=None, bucket: str = ""):
        self.kind, self.root, self.client, self.bucket = kind, root, client, bucket

    def raw_objects(self) -> dict[str, bytes]:
        if self.kind == "local":
            return {str(p.relative_to(self.root)): p.read_bytes() for p in self.root.rglob("*") if p.is_file()}
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                found[item["Key"]] = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
        return found


S3_CREDENTIALS = {"access_key": "shop-test", "secret_key": "shop-test-secret", "region_name": "us-east-1"}


@pytest.fixture(params=["local", "s3"])
def private_store(request, settings):
    """Runs a test twice: private files in the local folder (the default), then in a fresh
    bucket of the S3-compatible server on 127.0.0.1, configured as production configures it."""
    if request.param == "local":
        return PrivateStore("local", root=Path(settings.PRIVATE_ROOT))
    import boto3

    endpoint = request.getfixturevalue("s3_server")
    bucket = f"shop-private-{secrets.token_hex(6)}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=S3_CREDENTIALS["access_key"],
                          aws_secret_access_key=S3_CREDENTIALS["secret_key"],
                          region_name=S3_CREDENTIALS["region_name"])
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "private": {
        "BACKEND": "privacy.protection.storage_s3.PrivateS3Storage",
        "OPTIONS": {"bucket_name": bucket, "endpoint_url": endpoint, **S3_CREDENTIALS}}}
    return PrivateStore("s3", client=client, bucket=bucket)


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
        if marker is None and any(name in item.fixturenames for name in _DB_FIXTURES[1:]):
            # A test that asked for a transactional fixture stays one: pytest-django orders tests by
            # their marker, and a flushing test run among the others empties their database.
            kwargs["transaction"] = True
        item.add_marker(pytest.mark.django_db(*args, **kwargs), append=False)


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from privacy.protection.keystore import forget_cache

    forget_cache()
    yield
    forget_cache()
