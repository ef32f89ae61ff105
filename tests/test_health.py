"""GET /healthz/: the proxy's health check (config/health.py)."""
import pytest
from django.urls import reverse

from shop.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_health_reports_every_part_and_nothing_personal(client):
    UserFactory(email="healthy.person@example.com")
    before = User.objects.count()
    response = client.get(reverse("health"), {"format": "json"})
    assert response.status_code == 200
    data = response.json()
    assert {"Database", "Cache", "Broker", "Storage"} <= {key.split("(")[0] for key in data}
    assert all(value == "OK" for value in data.values()), data
    body = response.content.decode()
    assert "healthy.person" not in body and "example.com" not in body
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie: the proxy polls it often
    assert User.objects.count() == before


def test_health_fails_with_500_when_the_broker_is_down(client, settings):
    from config.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("health"), {"format": "json"})
    finally:
        app.conf.broker_url = old
    assert response.status_code == 500
    status = {key.split("(")[0]: value for key, value in response.json().items()}
    assert status["Broker"] != "OK" and status["Database"] == "OK"
    assert "127.0.0.1" not in response.content.decode()  # names the failure, not the address


def test_health_accepts_only_reads(client):
    assert client.post(reverse("health")).status_code == 405
