"""Per-person data keys (P10, P13): whose key seals what, a guest's orders joining an account,
and master-key rotation re-wrapping keys instead of re-encrypting values."""
from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order
from orders.services import orders_claim_guest
from privacy.keys.rotation import count_under_old_keys, rotate
from privacy.models import DataKey, Tombstone
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, key_id_of
from privacy.rights.erasure import erase_subject
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored(order, column="shipping_name") -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM orders_order WHERE id = %s", [order.pk])
        return bytes(cursor.fetchone()[0])


@pytest.mark.promise("P10")
def test_each_person_has_their_own_key_named_by_reference_only():
    alice, bob = UserFactory(name="Alice Ball"), UserFactory(name="Bob Noyce")
    a, b = OrderFactory(user=alice), OrderFactory(user=bob)
    guest = OrderFactory(email="Guest@Example.com")
    assert key_id_of(stored(a)) != key_id_of(stored(b)) != key_id_of(stored(guest))
    subjects = set(DataKey.objects.values_list("subject", flat=True))
    assert {f"user:{alice.pk}", f"user:{bob.pk}", f"guest:{email_index('guest@example.com')}"} <= subjects
    assert not [s for s in subjects if "@" in s or "pending" in s]  # a new account's key was renamed
    assert DataKey.objects.get(subject=f"user:{alice.pk}").key_id == key_id_of(stored(a))


@pytest.mark.promise("P13")
def test_a_guest_order_joined_to_an_account_loses_its_key_when_the_account_is_erased(
        django_capture_on_commit_callbacks):
    order = OrderFactory(email="joiner@example.com", shipping_name="Chien-Shiung Wu",
                         status=Order.Status.COMPLETED, completed_at=timezone.now())
    backup_copy = stored(order)
    guest_key = key_id_of(backup_copy)
    user = UserFactory(email="joiner@example.com")
    assert orders_claim_guest(user=user, email="joiner@example.com") == 1
    assert Order.objects.get(pk=order.pk).shipping_name == "Chien-Shiung Wu"  # nothing re-encrypted, still opens
    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=user)
    assert not DataKey.objects.filter(key_id=guest_key).exists()  # the copy in any backup no longer opens
    assert Tombstone.objects.filter(subject=f"guest:{email_index('joiner@example.com')}").exists()
    forget_cache()
    assert Order._meta.get_field("shipping_name").from_db_value(backup_copy, None, connection) == ERASED


@pytest.mark.promise("P10")
def test_rotation_rewraps_each_persons_key_once_and_leaves_their_values_alone(settings):
    user = UserFactory(name="Emmy Noether")
    orders = [OrderFactory(user=user, shipping_name=f"Emmy {i}") for i in range(5)]
    before = [stored(o) for o in orders]
    old_wrapped = bytes(DataKey.objects.get(subject=f"user:{user.pk}").wrapped)
    settings.CRYPTOGRAPHY_OLD_KEYS = [settings.CRYPTOGRAPHY_KEY]
    settings.CRYPTOGRAPHY_KEY = "a-new-master-key-" + "m" * 32
    assert count_under_old_keys()["orders.Order"] == 5
    reports = rotate(batch_size=100)
    assert reports[0].model_label == "data keys (re-wrapped)" and reports[0].rows == DataKey.objects.count()
    assert bytes(DataKey.objects.get(subject=f"user:{user.pk}").wrapped) != old_wrapped
    assert count_under_old_keys()["orders.Order"] == 0
    assert [key_id_of(stored(o)) for o in orders] == [key_id_of(b) for b in before]  # same person key
    settings.CRYPTOGRAPHY_OLD_KEYS = []
    forget_cache()
    assert [Order.objects.get(pk=o.pk).shipping_name for o in orders] == [f"Emmy {i}" for i in range(5)]
