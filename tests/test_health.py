"""GET /healthz/: the proxy's health check (config/health.py).

Asked over HTTP of the live test server, as the proxy asks it: django-health-check runs its checks
through asyncio, which cannot start in the test thread once the browser tests' Playwright loop
runs there (the server's own thread has no loop, like a gunicorn worker).
"""
import json
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from django.urls import reverse

from shop.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def ask(live_server, method: str = "GET"):
    request = urllib.request.Request(f"{live_server.url}{reverse('health')}?format=json", method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, headers, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    text = body.decode()
    return SimpleNamespace(status_code=status, headers=headers, text=text,
                           json=lambda: json.loads(text))


def test_health_reports_every_part_and_nothing_personal(live_server):
    UserFactory(email="healthy.person@example.com")
    before = User.objects.count()
    response = ask(live_server)
    assert response.status_code == 200
    data = response.json()
    assert {"Database", "Cache", "Broker", "Storage"} <= {key.split("(")[0] for key in data}
    assert all(value == "OK" for value in data.values()), data
    body = response.text
    assert "healthy.person" not in body and "example.com" not in body
    cache_control = response.headers["Cache-Control"]
    assert "no-cache" in cache_control or "max-age=0" in cache_control
    assert "Set-Cookie" not in response.headers  # no session, no CSRF cookie: the proxy polls it often
    assert User.objects.count() == before


def test_health_fails_with_500_when_the_broker_is_down(live_server, monkeypatch):
    from config.celery import app

    dead = "redis://127.0.0.1:1/0"
    old = app.conf.broker_url  # read before the environment changes: restored as it was
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI's Redis stage
    # sets it), so both point at a port nothing listens on.
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app.conf.broker_url = dead
    try:
        response = ask(live_server)
    finally:
        app.conf.broker_url = old
    assert response.status_code == 500
    status = {key.split("(")[0]: value for key, value in response.json().items()}
    assert status["Broker"] != "OK" and status["Database"] == "OK"
    assert "127.0.0.1:1" not in response.text  # names the failure, not the address
    monkeypatch.undo()
    assert app.conf.broker_url == old  # the tests after this one queue to the real broker


def test_health_accepts_only_reads(live_server):
    assert ask(live_server, "POST").status_code in (403, 405)  # CSRF refuses it first over real HTTP
