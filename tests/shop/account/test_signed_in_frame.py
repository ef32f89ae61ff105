"""A signed-in request reads the user's row and the page frame's answers in one statement
(issue 15, shop.account.auth): the cart badge, the policy-acknowledgement prompt, the
personalisation consent and restriction, the catalogue stamp. Each answer must stay its own
customer's, follow a change on the very next request, and sign-in must still be decided from the
database on every request."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy.consent.ledger import record as consent_record
from privacy.models import ConsentRecord, PolicyVersion
from shop.models import BrowsingEvent, Cart, Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PROMPT = "I have read it"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def customer(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def add(client: Client, product: Product, quantity: int) -> None:
    token = TOKEN.search(html(client, product.get_absolute_url())).group(1)
    response = client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": quantity,
                                                      "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def badge(page: str) -> str | None:
    found = re.search(r'aria-label="(\d+) items"', page)
    return found.group(1) if found else None


@pytest.fixture
def material_policy(db):
    return PolicyVersion.objects.create(version="9.0", body="New rules.", material=True,
                                        published_at=timezone.now() - timedelta(days=20),
                                        effective_at=timezone.now())


@pytest.fixture
def shelf(db):
    kitchen = CategoryFactory(name="Kitchen")
    ProductFactory(name="Stock Pot", category=kitchen, stock=9)
    return ProductFactory(name="Iron Pan", category=kitchen, price="30.00", stock=9)


def test_two_customers_in_alternation_each_see_only_their_own_frame(material_policy, shelf):
    ada = UserFactory(date_joined=timezone.now() - timedelta(days=60))  # joined before the change
    bob = UserFactory(date_joined=timezone.now())  # joined after it: nothing to acknowledge
    consent_record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, user=ada,
                   channel=ConsentRecord.Channel.DASHBOARD)
    first, second = customer(ada), customer(bob)
    add(first, shelf, 2)
    add(second, shelf, 1)
    for _ in range(3):
        for url in (shelf.get_absolute_url(), reverse("shop:product_list"), "/"):
            mine, theirs = html(first, url), html(second, url)
            assert badge(mine) == "2" and PROMPT in mine
            assert badge(theirs) == "1" and PROMPT not in theirs
            assert "Recommended for you" not in theirs and "Recently viewed" not in theirs
    assert "Recommended for you" in html(first, "/")
    # Ada's consent records her views (the page she added from, then 3 rounds); Bob, who never
    # consented, has none.
    assert BrowsingEvent.objects.filter(user=ada).count() == 4
    assert not BrowsingEvent.objects.filter(user=bob).exists()


def test_every_answer_follows_a_change_on_the_very_next_request(material_policy, shelf):
    ada = UserFactory(date_joined=timezone.now() - timedelta(days=60))
    consent_record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, user=ada,
                   channel=ConsentRecord.Channel.DASHBOARD)
    client = customer(ada)
    url = shelf.get_absolute_url()
    add(client, shelf, 2)
    page = html(client, url)
    assert badge(page) == "2" and PROMPT in page and "30.00" in page
    add(client, shelf, 1)
    assert badge(html(client, url)) == "3"
    Product.objects.filter(pk=shelf.pk).update(price="27.00")
    Product.objects.filter(pk=shelf.pk).update(name="Cast Iron Pan")  # a trigger bumps the stamp
    page = html(client, url)
    assert "27.00" in page and "30.00" not in page and "Cast Iron Pan" in page
    assert "Cast Iron Pan" in html(client, reverse("shop:product_list"))
    Product.objects.filter(pk=shelf.pk).update(stock=4)  # an order took stock
    assert "Only 4 left" in html(client, url)
    Product.objects.filter(pk=shelf.pk).update(is_active=False)
    assert client.get(url).status_code == 404
    Product.objects.filter(pk=shelf.pk).update(is_active=True)
    client.post(reverse("privacy:acknowledge", args=["9.0"]), {"next": "/"},
                HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert PROMPT not in html(client, url)
    seen = BrowsingEvent.objects.filter(user=ada).count()
    client.post(reverse("privacy:restriction"), {"restrict": "on"}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    html(client, url)
    assert BrowsingEvent.objects.filter(user=ada).count() == seen  # restricted: nothing recorded
    client.post(reverse("privacy:restriction"), {}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    html(client, url)
    assert BrowsingEvent.objects.filter(user=ada).count() == seen + 1  # lifted: recorded again
    consent_record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=False, user=ada,
                   channel=ConsentRecord.Channel.DASHBOARD)
    page = html(client, url)
    assert not BrowsingEvent.objects.filter(user=ada).exists()  # withdrawing deleted the history
    assert "Recommended for you" not in page and "Recently viewed" not in page
    html(client, url)
    assert not BrowsingEvent.objects.filter(user=ada).exists()


@pytest.mark.parametrize("revoke", ["password", "inactive", "deleted", "signed out"])
def test_a_revoked_sign_in_is_refused_on_the_very_next_request(revoke, shelf):
    ada = UserFactory()
    client = customer(ada)
    add(client, shelf, 1)
    assert "Sign out" in html(client, shelf.get_absolute_url())
    if revoke == "password":
        ada.set_password("a completely new passphrase 42")
        ada.save()
    elif revoke == "inactive":
        type(ada).objects.filter(pk=ada.pk).update(is_active=False)
    elif revoke == "deleted":
        ada.delete()
    else:
        from django.contrib.sessions.models import Session
        Session.objects.filter(session_key=client.cookies["sessionid"].value).delete()
    for url in (shelf.get_absolute_url(), reverse("shop:product_list")):
        page = html(client, url)
        assert "Sign out" not in page and badge(page) is None
    assert client.get(reverse("shop:cart")).context["cart"].count == 0  # not the account's cart


def test_signed_in_pages_make_a_fixed_number_of_queries(shelf, django_assert_max_num_queries):
    client = customer(UserFactory())
    add(client, shelf, 1)
    for _ in range(20):
        ProductFactory(category=shelf.category)
    for url in (shelf.get_absolute_url(), reverse("shop:product_list"), "/"):
        html(client, url)  # fragments and the list's count cached under the new stamp
    # One statement: the session, the user its row in allauth's session list names, and the
    # whole frame. The product is kept under the stamp; the list's grid and count too.
    for url in (shelf.get_absolute_url(), reverse("shop:product_list"), "/"):
        with django_assert_max_num_queries(1):
            html(client, url)


def test_a_signed_in_add_to_cart_is_one_write_and_refuses_past_the_stock(shelf, django_assert_max_num_queries):
    ada = UserFactory()
    client = customer(ada)
    add(client, shelf, 1)
    token = client.cookies["csrftoken"].value
    touched = Cart.objects.get(user=ada).updated_at
    # The session, the user's row, the line (cart, product and stock checked in the statement),
    # the cart's time: no transaction, no cart lookup.
    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("shop:cart_add"), {"product": shelf.pk, "quantity": 2}, HTTP_X_CSRFTOKEN=token)
    assert len(queries) <= 4, [q["sql"][:80] for q in queries]
    assert Cart.objects.get(user=ada).updated_at > touched  # the cart's time moves (retention counts from it)
    assert badge(html(client, reverse("shop:product_list"))) == "3"
    client.post(reverse("shop:cart_add"), {"product": shelf.pk, "quantity": 7}, HTTP_X_CSRFTOKEN=token)
    page = html(client, reverse("shop:cart"))
    assert "Only 9 of “Iron Pan” can be ordered; you asked for 10." in page
    assert badge(page) == "3"


def test_the_user_read_with_the_session_is_only_ever_the_sessions_own(shelf):
    """The session store reads the user that allauth's session list names for the session; when
    that row names someone else or is missing, the session's own user is read instead."""
    from allauth.usersessions.models import UserSession

    ada, bob = UserFactory(), UserFactory()
    first, second = customer(ada), customer(bob)
    add(first, shelf, 2)
    add(second, shelf, 1)
    key = first.cookies["sessionid"].value
    UserSession.objects.filter(session_key=key).update(user=bob)
    page = html(first, reverse("shop:product_list"))
    assert badge(page) == "2" and "Sign out" in page
    UserSession.objects.filter(session_key=key).delete()
    page = html(first, shelf.get_absolute_url())
    assert badge(page) == "2" and "Sign out" in page
    assert badge(html(second, shelf.get_absolute_url())) == "1"
