"""Global Privacy Control (P19): declared at /.well-known/gpc.json and respected when a visitor
turns on, against the signal, something it refuses."""
import json
from datetime import date

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P19")
def test_well_known_gpc_json_declares_support_and_is_cacheable_without_cookies(db):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"gpc", "lastUpdate"} and body["gpc"] is True
    date.fromisoformat(body["lastUpdate"])  # an ISO date, as the specification asks
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"] and "private" not in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie, no consent cookie
    assert client.head("/.well-known/gpc.json").status_code == 200
    assert Client().post("/.well-known/gpc.json").status_code == 405  # read-only


@pytest.mark.promise("P19")
def test_gpc_json_last_update_is_a_constant_not_todays_date(db, settings):
    from privacy.consent.views import GPC_LAST_UPDATE

    body = json.loads(Client().get("/.well-known/gpc.json").content)
    assert body["lastUpdate"] == GPC_LAST_UPDATE
    assert date.fromisoformat(GPC_LAST_UPDATE) <= date.today()
