"""Notices after an action (shop.sessions.NoticeStorage, issue 15): a notice that holds nothing
about the person rides to the next page in the signed `messages` cookie, so adding to the cart
writes no session row; any other notice stays in the session and never reaches a cookie."""
from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from privacy.consent.cookies import COOKIES
from shop.sessions import PUBLIC, NoticeStorage
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def session_data(client: Client) -> str:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).session_data


def test_adding_to_the_cart_says_so_on_the_next_page_without_writing_the_session(client):
    lamp = ProductFactory(name="Walnut Desk Lamp", stock=9)
    client.post(reverse("shop:cart_add"), {"product": lamp.pk, "quantity": 1})  # makes the cart and session
    client.get(reverse("shop:cart"))  # shows that first notice
    before = session_data(client)

    response = client.post(reverse("shop:cart_add"), {"product": lamp.pk, "quantity": 1})
    assert response.status_code == 302
    assert response.cookies["messages"].value  # the notice travels in the cookie
    assert response.cookies["messages"]["httponly"]
    assert session_data(client) == before  # and the session row was not rewritten

    html = client.get(reverse("shop:cart")).content.decode()
    assert "Added to your cart: Walnut Desk Lamp (now 2)." in html
    assert 'class="message message-success"' in html
    assert client.cookies["messages"].value == ""  # shown once, then the cookie is deleted
    assert "Added to your cart" not in client.get(reverse("shop:cart")).content.decode()


def test_a_refused_add_and_a_changed_quantity_are_shown_too(client):
    lamp = ProductFactory(name="Walnut Desk Lamp", stock=1)
    client.post(reverse("shop:cart_add"), {"product": lamp.pk, "quantity": 1})
    client.post(reverse("shop:cart_add"), {"product": lamp.pk, "quantity": 1})
    html = client.get(reverse("shop:cart")).content.decode()
    assert "Added to your cart: Walnut Desk Lamp (now 1)." in html
    assert "Only 1 of “Walnut Desk Lamp” can be ordered; you asked for 2." in html  # the refusal, as before
    assert 'class="message message-error"' in html
    client.post(reverse("shop:cart_update"), {"product": lamp.pk, "quantity": 1})
    assert "Your cart was updated." in client.get(reverse("shop:cart")).content.decode()


def _request_with_session(cookies: dict | None = None):
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = SessionStore()
    return request


@pytest.mark.promise("P1")
def test_a_notice_that_may_name_the_person_never_reaches_a_cookie():
    request = _request_with_session()
    request._messages = NoticeStorage(request)
    messages.info(request, "You are signed in as ada@lovelace.example.")
    messages.success(request, "Added to your cart: Walnut Desk Lamp (now 1).", extra_tags=PUBLIC)
    response = HttpResponse()
    request._messages.update(response)

    stored = CookieStorage(request)._decode(response.cookies["messages"].value)
    assert [m.message for m in stored] == ["Added to your cart: Walnut Desk Lamp (now 1)."]
    assert "lovelace" not in response.cookies["messages"].value
    in_session = request._messages.session.deserialize_messages(request.session["_messages"])
    assert [m.message for m in in_session] == ["You are signed in as ada@lovelace.example."]

    # the next page reads both, each once
    following = RequestFactory().get("/")
    following.COOKIES["messages"] = response.cookies["messages"].value
    following.session = request.session
    storage = NoticeStorage(following)
    assert sorted(m.message for m in storage) == ["Added to your cart: Walnut Desk Lamp (now 1).",
                                                   "You are signed in as ada@lovelace.example."]
    shown = HttpResponse()
    storage.update(shown)
    assert shown.cookies["messages"].value == "" and "_messages" not in following.session


def test_signing_in_sets_no_notice_cookie(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    assert "messages" not in response.cookies  # allauth's "signed in as …" stays in the session


def test_the_cookie_is_on_the_cookie_list_as_strictly_necessary():
    declared = {c.name: c for c in COOKIES}
    assert declared["messages"].kind == "necessary"
