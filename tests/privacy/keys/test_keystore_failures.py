"""A key store that cannot be reached, or a person's key that is gone, never gives a 500 where a
person or a staff member looks (P10): the values read as a placeholder, the shop keeps selling,
and nothing already stored is overwritten with the placeholder."""
from __future__ import annotations

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, SupportThread
from privacy.keys.rotation import rotate
from privacy.models import DataKey
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PREFIX, UNAVAILABLE
from shop.models import Address
from tests.conftest import Shopper
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P10")]


@pytest.fixture
def shop_with_people(product):
    customer = UserFactory(name="Grace Hopper", phone="+1 555 0101")
    Address.objects.create(user=customer, name="Grace Hopper", line1="1 Cobol Court", city="Arlington", country="US")
    signed = Client()
    signed.force_login(customer)
    reference = Shopper(signed).buy(product, email=customer.email, name="Grace Hopper")
    signed.post(reverse("orders:support"), {"subject": "Late", "message": "Where is the compiler manual"})
    guest = Shopper(Client())
    guest.buy(product, email="guest@example.com", name="Katherine Johnson")
    Order.objects.update(status=Order.Status.COMPLETED, completed_at=timezone.now())
    return customer, signed, reference


def _pages(customer, reference) -> tuple[list[str], list[str]]:
    staff = [reverse("admin:orders_order_changelist"), reverse("admin:orders_supportthread_changelist")]
    staff += [reverse("admin:orders_order_change", args=[pk]) for pk in Order.objects.values_list("pk", flat=True)]
    staff += [reverse("admin:orders_supportthread_change", args=[pk])
              for pk in SupportThread.objects.values_list("pk", flat=True)]
    person = [reverse("account:center"), reverse("account:profile"), reverse("account:addresses"),
              reverse("orders:mine"), reverse("orders:detail", args=[reference]), reverse("orders:threads"),
              reverse("privacy:dashboard")]
    return staff, person


def _look(staff_client, signed, customer, reference, placeholder: str) -> None:
    staff_pages, person_pages = _pages(customer, reference)
    shown = ""
    officer_pages = [reverse("admin:shop_user_changelist"), reverse("admin:shop_user_change", args=[customer.pk])]
    for role, urls in (("Customer service", staff_pages), ("Privacy officer", officer_pages)):
        staff = staff_client(role)
        for url in urls:
            response = staff.get(url)
            assert response.status_code == 200, url
            shown += response.content.decode()
    for url in person_pages:
        response = signed.get(url)
        assert response.status_code == 200, url
        shown += response.content.decode()
    assert placeholder in shown
    assert "Grace Hopper" not in shown and "Katherine Johnson" not in shown


def test_a_key_store_that_cannot_be_reached_shows_placeholders_and_checkout_still_works(
        shop_with_people, staff_client, product):
    customer, signed, reference = shop_with_people
    forget_cache()
    with connections["keys"].cursor() as cursor:  # the key store's table is gone (rolled back after the test)
        cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")
    assert Order.objects.get(reference=reference).shipping_name == UNAVAILABLE
    _look(staff_client, signed, customer, reference, UNAVAILABLE)
    # The shop keeps selling: a new order falls back to the shop-wide key, and reads back.
    new = Shopper(Client()).buy(product, email="later@example.com", name="Dorothy Vaughan")
    assert Order.objects.get(reference=new).shipping_name == "Dorothy Vaughan"


def test_a_missing_key_reads_as_erased_everywhere_and_the_stored_value_is_not_overwritten(
        shop_with_people, staff_client):
    customer, signed, reference = shop_with_people
    DataKey.objects.filter(subject=f"user:{customer.pk}").delete()
    forget_cache()
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_name FROM orders_order WHERE reference = %s", [reference])
        stored = bytes(cursor.fetchone()[0])
    assert stored.startswith(PREFIX)
    _look(staff_client, signed, customer, reference, ERASED)
    rotate(batch_size=10)  # rewrites every row of every encrypted model...
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_name FROM orders_order WHERE reference = %s", [reference])
        assert bytes(cursor.fetchone()[0]) == stored  # ...but never the placeholder over what was stored
    assert Order.objects.exclude(reference=reference).get().shipping_name == "Katherine Johnson"


def test_no_email_goes_to_an_address_that_no_longer_opens(django_capture_on_commit_callbacks):
    from django.core import mail

    from privacy.models import Disclosure
    from privacy.processors.disclosure import MailNotSent, send_personal_email
    from tests.factories import OrderFactory

    order = OrderFactory(email="gone@example.com")
    DataKey.objects.all().delete()
    forget_cache()
    address = Order.objects.get(pk=order.pk).email
    assert address == ERASED
    with pytest.raises(MailNotSent):
        send_personal_email(to=address, subject="Your order", text="Hello", fields=["user.email"])
    assert mail.outbox == [] and not Disclosure.objects.exists()


def test_saving_a_profile_while_the_key_store_is_away_keeps_the_stored_name(shop_with_people):
    """The profile form shows the placeholder while the key store is out of reach; sending it back
    must not replace the person's name with the placeholder (no lost data)."""
    customer, signed, _ = shop_with_people
    forget_cache()
    # In a savepoint: on PostgreSQL the failed reads abort the test's transaction on the key
    # store, and rolling back to the savepoint both clears that and brings the table back.
    away = transaction.savepoint(using="keys")
    with connections["keys"].cursor() as cursor:
        cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")
    from shop.models import User

    reloaded = User.objects.get(pk=customer.pk)
    assert reloaded.name == UNAVAILABLE
    reloaded.save()  # what a form sending the shown values back does
    transaction.savepoint_rollback(away, using="keys")
    forget_cache()
    assert User.objects.get(pk=customer.pk).name == "Grace Hopper"


def test_a_shortened_postcode_stays_under_its_persons_key(db):
    """Decay rewrites rows with bulk_update (no pre_save): the shortened value must stay sealed
    under the person's key, or erasure would no longer reach it in backups."""
    from datetime import timedelta

    from privacy.retention.purge import purge
    from tests.factories import OrderFactory

    customer = UserFactory()
    now = timezone.now()
    order = OrderFactory(user=customer, status=Order.Status.DELIVERED, created_at=now - timedelta(days=100),
                         paid_at=now - timedelta(days=100), delivered_at=now - timedelta(days=93),
                         shipping_postal_code="SW1A 1AA")
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_postal_code FROM orders_order WHERE id = %s", [order.pk])
        assert bytes(cursor.fetchone()[0]).startswith(PREFIX)  # sealed under the person's key at checkout
    purge()
    assert Order.objects.get(pk=order.pk).shipping_postal_code == "SW1A"
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_postal_code FROM orders_order WHERE id = %s", [order.pk])
        assert bytes(cursor.fetchone()[0]).startswith(PREFIX)  # and still after the decay step
