"""Encryption at rest, proven from the outside: raw rows read with SQL hold no clear values."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from orders.models import Order, Payment
from privacy.keys.rotation import count_under_old_keys, rotate
from privacy.protection.crypto import email_index
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SECRETS = {"email": "marie.curie@radium.example", "name": "Marie Skłodowska-Curie",
           "line1": "36 Quai de Béthune", "city": "Varsovie-sur-Seine", "postal_code": "75004",
           "region": "Île-de-France", "phone": "+33 1 44 27 12 34"}


def raw_rows(table: str) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return [repr(row).encode() + b"".join(bytes(v) for v in row if isinstance(v, (bytes, memoryview)))
                for row in cursor.fetchall()]


def assert_nowhere_in_clear(values, tables):
    dump = b"\n".join(row for table in tables for row in raw_rows(table))
    for value in values:
        for form in {value, value.lower(), value.upper()}:
            assert form.encode() not in dump, f"{value!r} found in clear"


@pytest.mark.promise("P10")
def test_checkout_details_are_ciphertext_in_the_database(client, shopper, product):
    shopper.add(product, 1)
    response = shopper.checkout(email=SECRETS["email"], name=SECRETS["name"], line1=SECRETS["line1"],
                                city=SECRETS["city"], postal_code=SECRETS["postal_code"],
                                region=SECRETS["region"], phone=SECRETS["phone"], country="FR")
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.email, order.shipping_name, order.phone) == (SECRETS["email"], SECRETS["name"], SECRETS["phone"])
    assert_nowhere_in_clear(SECRETS.values(), ["orders_order", "orders_orderline", "orders_orderstatuschange"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_name FROM orders_order")
        (stored,) = cursor.fetchone()
    assert bytes(stored)[:4] == b"gAAA" or len(bytes(stored)) > 60  # a Fernet token, not a name


@pytest.mark.promise("P4")
@pytest.mark.promise("P10")
def test_card_brand_and_last_four_are_all_we_keep_and_they_are_encrypted(db):
    order = OrderFactory()
    Payment.objects.create(order=order, gateway="stripe", intent_id="pi_123", amount=order.total,
                           card_brand="visa", card_last4="4242")
    assert_nowhere_in_clear(["4242", "visa"], ["orders_payment"])
    stored_fields = {f.name for f in Payment._meta.concrete_fields}
    assert not stored_fields & {"card_number", "number", "cvc", "cvv", "exp_month", "exp_year", "expiry"}


@pytest.mark.promise("P10")
def test_a_guest_order_is_found_by_email_through_the_blind_index_only(db, django_assert_max_num_queries):
    mine = OrderFactory(email="Guest.Person@Example.com ")
    OrderFactory(email="someone@example.com")
    with django_assert_max_num_queries(1):
        found = list(Order.objects.filter(email_index=email_index("guest.person@example.com")))
    assert found == [mine]
    assert mine.email_index != email_index("someone@example.com")
    assert "guest.person" not in mine.email_index and len(mine.email_index) == 64


def test_the_blind_index_depends_on_its_own_key(settings):
    before = email_index("a@example.com")
    settings.BLIND_INDEX_KEY = "another-key-entirely-for-the-blind-index"
    assert email_index("a@example.com") != before


def test_ciphertext_does_not_depend_on_secret_key(settings, db):
    order = OrderFactory(shipping_name="Rosalind Franklin")
    settings.SECRET_KEY = "a-brand-new-secret-key-after-an-incident-" + "x" * 20
    assert Order.objects.get(pk=order.pk).shipping_name == "Rosalind Franklin"


@pytest.mark.promise("P10")
def test_key_rotation_reencrypts_everything_and_old_values_stay_readable_meanwhile(settings, db, capsys):
    old = settings.CRYPTOGRAPHY_KEY
    orders = [OrderFactory(shipping_name=f"Person {i}", phone=f"+1 555 01{i:02d}") for i in range(25)]
    settings.CRYPTOGRAPHY_KEY = "new-key-" + "k" * 40
    settings.CRYPTOGRAPHY_OLD_KEYS = [old]
    assert count_under_old_keys()["orders.Order"] == 25
    assert Order.objects.get(pk=orders[3].pk).shipping_name == "Person 3"  # readable before rotation
    rotate(batch_size=10, stop_after_batches=1)  # a crash after the first batch
    assert count_under_old_keys()["orders.Order"] == 15
    assert Order.objects.get(pk=orders[20].pk).shipping_name == "Person 20"  # still readable mid-way
    call_command("rotate_encryption_key", batch_size=10)  # resumes
    assert count_under_old_keys()["orders.Order"] == 0
    call_command("rotate_encryption_key", verify=True)
    settings.CRYPTOGRAPHY_OLD_KEYS = []  # the old key is retired
    assert [o.shipping_name for o in Order.objects.order_by("pk")] == [f"Person {i}" for i in range(25)]
    assert Order.objects.get(pk=orders[7].pk).phone == "+1 555 0107"


def test_without_the_key_nothing_can_be_read(settings, db):
    from privacy.protection.keystore import forget_cache
    from privacy.protection.sealing import UNAVAILABLE

    OrderFactory(shipping_name="Lise Meitner")
    settings.CRYPTOGRAPHY_KEY = "an-attacker-guess-" + "g" * 30
    forget_cache()  # a process that never held the data keys
    # The order's fields are sealed under the guest's data key, which the wrong master key cannot unwrap.
    assert list(Order.objects.values_list("shipping_name", flat=True)) == [UNAVAILABLE]


def test_admin_order_search_by_email_uses_the_blind_index(staff_client, db):
    order = OrderFactory(email="find.me@example.com", status="paid")
    OrderFactory(email="other@example.com", status="paid")
    client = staff_client("Customer service")
    page = client.get(reverse("admin:orders_order_changelist"), {"q": "Find.Me@example.com"})
    assert list(page.context["cl"].result_list) == [order]
