"""The delete-account page says plainly what goes, what stays and why, in the person's words."""
from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order
from tests.factories import OrderFactory, UserFactory
from tests.privacy.rights.test_dashboard import main_text

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P13")
def test_the_page_lists_what_goes_and_what_stays_with_why(client, rich_user):
    client.force_login(rich_user)
    html = client.get(reverse("privacy:delete_account")).content.decode()
    text = main_text(html)
    goes = text.split("What is deleted", 1)[1].split("What is kept", 1)[0]
    stays = text.split("What is kept", 1)[1].split("Confirm it is you", 1)[0]
    for name in ("Your account: your name, email, phone and password", "Your address book",
                 "Your conversations with customer service", "The products you looked at"):
        assert name in goes, name
    assert "Your orders." in stays and "Accounting law" in stays
    assert "Your consents." in stays and "Proof that we asked" in stays
    assert "Your orders" not in goes  # kept (anonymised), not promised as deleted
    for wording in ("Log entry", "Django", "User #", "Order line", "verbose"):
        assert wording not in text, wording
    assert 'class="button button-danger">Delete my account</button>' in html


def test_only_what_the_person_has_is_listed(client):
    user = UserFactory()
    client.force_login(user)
    text = main_text(client.get(reverse("privacy:delete_account")).content.decode())
    assert "Your account: your name, email, phone and password" in text
    assert "Your orders" not in text and "Your edits as a member of our staff" not in text
    assert "Nothing: you have no record we must keep." in text


def test_an_open_order_is_explained_in_a_sentence(client):
    user = UserFactory()
    OrderFactory(user=user, status=Order.Status.PAID)
    client.force_login(user)
    text = main_text(client.get(reverse("privacy:delete_account")).content.decode())
    assert ("We cannot delete your account yet, because an order is still being paid for, prepared or delivered. "
            "You can ask now: we delete it as soon as that is finished, and email you.") in text
    assert "You have an order" not in text
