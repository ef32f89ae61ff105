"""The session store reads its row in plain SQL (issue 15, shop.sessions): signing in, signing out,
expiry and revocation must behave exactly as with Django's database store."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def signed_in(client: Client) -> bool:
    return client.get(reverse("account:center")).status_code == 200


def test_a_signed_in_session_is_read_back_and_keeps_its_cart(user, product):
    browser = Client()
    browser.force_login(user)
    browser.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 2})
    assert signed_in(browser)
    assert 'aria-label="2 items"' in browser.get("/").content.decode()


def test_an_expired_session_reads_as_none(user):
    browser = Client()
    browser.force_login(user)
    assert signed_in(browser)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert not signed_in(browser)
    assert "Sign out" not in browser.get("/").content.decode()


def test_a_deleted_session_signs_out_on_the_very_next_request(user):
    phone, laptop = Client(), Client()
    phone.force_login(user)
    laptop.force_login(user)
    assert signed_in(phone) and signed_in(laptop)
    Session.objects.filter(session_key=phone.cookies["sessionid"].value).delete()  # as "sign out elsewhere" does
    assert not signed_in(phone)
    assert signed_in(laptop)


@pytest.mark.parametrize("cookie", ["nonexistentkey0123456789abcdefgh", "x", "' OR 1=1 --", "a" * 300])
def test_an_unknown_or_forged_session_cookie_is_a_visitor_without_a_session(user, cookie):
    browser = Client()
    browser.force_login(user)
    browser.cookies["sessionid"] = cookie
    assert not signed_in(browser)
    assert browser.get("/").status_code == 200
    assert Session.objects.count() == 1  # nothing made or changed by reading
