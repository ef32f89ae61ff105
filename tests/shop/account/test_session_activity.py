"""Session activity ("Where you are signed in") is kept without a write on every page (issue 15):
what a customer sees on the sessions page and what signing out elsewhere does must not change."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"


def signed_in(user, password, **headers) -> Client:
    browser = Client(**headers)
    response = browser.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    return browser


def writes(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries
            if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE", "BEGIN"))]


def test_browsing_while_signed_in_writes_nothing_until_the_interval_has_passed(user, password):
    browser = signed_in(user, password, HTTP_USER_AGENT=FIREFOX)
    browser.get(reverse("account:center"))
    seen = UserSession.objects.get(user=user).last_seen_at
    for url in ("/", "/products/", reverse("account:center")):
        assert writes(browser, url) == []  # no write transaction on a GET
    assert UserSession.objects.get(user=user).last_seen_at == seen
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        browser.get("/")
        later = UserSession.objects.get(user=user).last_seen_at
    assert later - seen >= timedelta(minutes=6)  # "Last active" moves on after the interval


def test_a_new_browser_on_the_same_session_is_recorded_on_its_first_request(user, password):
    browser = signed_in(user, password, HTTP_USER_AGENT=FIREFOX)
    browser.get("/")
    assert UserSession.objects.get(user=user).user_agent == "Firefox on Linux"
    browser.get("/", HTTP_USER_AGENT=CHROME)  # the same cookie, another browser: recorded at once
    assert UserSession.objects.get(user=user).user_agent == "Chrome on Windows"
    browser.get("/", HTTP_USER_AGENT=CHROME, REMOTE_ADDR="198.51.100.23")  # another network too
    assert UserSession.objects.get(user=user).ip == "198.51.100.0"


def test_a_session_without_its_row_gets_one_on_the_next_request(user, password):
    browser = Client(HTTP_USER_AGENT=FIREFOX)
    browser.force_login(user)  # no allauth sign-in signal: the middleware records it
    assert not UserSession.objects.filter(user=user).exists()
    browser.get("/")
    assert UserSession.objects.get(user=user).user_agent == "Firefox on Linux"
    assert writes(browser, "/") == []


def test_signing_out_elsewhere_takes_effect_at_once_while_activity_is_remembered(user, password):
    phone = signed_in(user, password, HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1")
    laptop = signed_in(user, password, HTTP_USER_AGENT=CHROME)
    for browser in (phone, laptop):  # both sessions' activity is now remembered, not written
        browser.get(reverse("account:center"))
        assert writes(browser, reverse("account:center")) == []
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Safari on iOS" in page and "Chrome on Windows" in page
    laptop.post(reverse("usersessions_list"), {})
    assert phone.get(reverse("account:center")).status_code == 302  # signed out there, on the next request
    assert "Sign out" not in phone.get("/").content.decode()
    assert laptop.get(reverse("account:center")).status_code == 200
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == ["Chrome on Windows"]


def test_nothing_is_tracked_for_visitors_who_are_not_signed_in(product):
    browser = Client(HTTP_USER_AGENT=FIREFOX)
    browser.get(product.get_absolute_url())
    assert not UserSession.objects.exists()
