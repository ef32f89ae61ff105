"""The daily key sweep (P10, P13): keys that erasure could not destroy (key store away at commit),
keys of rows the retention purge removed, and values written under the shop-wide key during an
outage are all set right by the next sweep; a key still in use is never touched."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from orders.models import Order
from privacy.keys.sweep import keys_sweep
from privacy.models import DataKey, Disclosure, Tombstone
from privacy.protection import keystore
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PREFIX, key_id_of
from privacy.retention.purge import purge
from privacy.rights.erasure import erase_subject
from privacy.tasks import keys_sweep as keys_sweep_task
from shop.models import User
from tests.conftest import Shopper
from tests.factories import OrderFactory, UserFactory
from tests.legal_holds import hold_on

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0)


def at(days: float):
    return time_machine.travel(T0 + timedelta(days=days), tick=False)


def raw(model, pk, column: str) -> bytes:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


class key_store_away:
    """The key store's table is out of reach (renamed; the test's transaction undoes it anyway)."""

    def __enter__(self):
        forget_cache()
        with connections["keys"].cursor() as cursor:
            cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")

    def __exit__(self, *exc):
        with connections["keys"].cursor() as cursor:
            cursor.execute("ALTER TABLE privacy_datakey_away RENAME TO privacy_datakey")
        forget_cache()


def completed(**kw) -> Order:
    return OrderFactory(status=Order.Status.COMPLETED, completed_at=timezone.now(), **kw)


@pytest.mark.promise("P13")
def test_keys_an_erasure_missed_while_the_key_store_was_away_go_at_the_next_sweep(
        django_capture_on_commit_callbacks, caplog):
    with at(0):
        erased_user = UserFactory(name="Rosalind Franklin")
        erased_order = completed(user=erased_user, shipping_name="Rosalind Franklin")
        completed(email="gone-guest@example.com", shipping_name="Lise Meitner")
        live_user = UserFactory(name="Barbara McClintock")
        live_order = completed(user=live_user, shipping_name="Barbara McClintock")
        live_guest = completed(email="still-here@example.com", shipping_name="Mary Anning")
        backup_copy = raw(Order, erased_order.pk, "shipping_name")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            erase_subject(user=erased_user)
            erase_subject(email="gone-guest@example.com")
        with key_store_away():
            for callback in callbacks:
                callback()  # the erasures committed; destroying their keys fails, and says so (no 500)
        assert "wait for the daily key sweep" in caplog.text
    erased = {f"user:{erased_user.pk}", f"guest:{email_index('gone-guest@example.com')}"}
    live = {f"user:{live_user.pk}", f"guest:{email_index('still-here@example.com')}"}
    assert set(DataKey.objects.filter(subject__in=erased).values_list("subject", flat=True)) == erased
    assert not Tombstone.objects.filter(subject__in=erased).exists()
    live_keys = dict(DataKey.objects.filter(subject__in=live).values_list("subject", "key_id"))

    with at(2):
        report = keys_sweep()
    assert report.keys_destroyed == 2 and not report.key_store_down
    assert not DataKey.objects.filter(subject__in=erased).exists()
    assert set(Tombstone.objects.filter(subject__in=erased).values_list("subject", flat=True)) == erased
    forget_cache()
    # The copy of the order a backup holds no longer opens.
    assert Order._meta.get_field("shipping_name").from_db_value(backup_copy, None, connection) == ERASED
    # What must not happen: the live customer's and the live guest's keys and values are untouched.
    assert dict(DataKey.objects.filter(subject__in=live).values_list("subject", "key_id")) == live_keys
    assert not Tombstone.objects.filter(subject__in=live).exists()
    assert Order.objects.get(pk=live_order.pk).shipping_name == "Barbara McClintock"
    assert Order.objects.get(pk=live_guest.pk).shipping_name == "Mary Anning"
    assert User.objects.get(pk=live_user.pk).name == "Barbara McClintock"

    with at(3):
        again = keys_sweep()  # idempotent: nothing left to destroy, no second tombstone
    assert again.keys_destroyed == 0
    assert Tombstone.objects.filter(subject__in=erased).count() == 2


@pytest.mark.promise("P13")
def test_a_key_handed_out_in_the_last_day_is_never_swept_even_without_rows_yet():
    """A checkout seals under a guest's key before its order commits: for that moment no row
    names the key. The sweep leaves keys used within keystore.KEY_IDLE alone."""
    subject = f"guest:{email_index('about-to-order@example.com')}"
    with at(0):
        key_id, _ = keystore.key_for_subject(subject)
    with at(0.5):
        assert keys_sweep().keys_destroyed == 0
        forget_cache()
        assert keystore.key_for_subject(subject)[0] == key_id  # used again: idle from now on
    with at(1.4):
        assert keys_sweep().keys_destroyed == 0
        assert DataKey.objects.filter(key_id=key_id).exists()
    with at(2):
        assert keys_sweep().keys_destroyed == 1
    assert not DataKey.objects.filter(key_id=key_id).exists() and Tombstone.objects.filter(subject=subject).exists()


@pytest.mark.promise("P13")
def test_a_key_sealing_rows_under_a_legal_hold_stays_until_the_hold_ends(django_capture_on_commit_callbacks):
    with at(0):
        user = UserFactory(name="Hedy Lamarr")
        order = completed(user=user, shipping_name="Hedy Lamarr")
        hold_on(order=order, days=30)
        with django_capture_on_commit_callbacks(execute=True):
            erase_subject(user=user)  # the account goes; the held order keeps its values, under the user's key
    subject = f"user:{user.pk}"
    assert not User.objects.filter(pk=user.pk).exists() and DataKey.objects.filter(subject=subject).exists()
    with at(10):
        assert keys_sweep().keys_destroyed == 0
        forget_cache()
        assert Order.objects.get(pk=order.pk).shipping_name == "Hedy Lamarr"  # still readable for the hold
    with at(31):
        from privacy.retention.legal_holds import legal_holds_expire

        legal_holds_expire()  # the hold ends: the order is anonymised
        assert keys_sweep().keys_destroyed == 1
    assert not DataKey.objects.filter(subject=subject).exists() and Tombstone.objects.filter(subject=subject).exists()


@pytest.mark.promise("P13")
def test_the_purge_removes_a_guests_last_order_and_the_sweep_after_it_destroys_their_key():
    with at(0):
        old = OrderFactory(email="long-ago@example.com", shipping_name="Ada Yonath",
                           status=Order.Status.DELIVERED, paid_at=T0, delivered_at=T0)
        backup_copy = raw(Order, old.pk, "shipping_name")
    with at(100):
        recent = OrderFactory(email="recent@example.com", shipping_name="Tu Youyou",
                              status=Order.Status.DELIVERED, paid_at=timezone.now(), delivered_at=timezone.now())
    gone, kept = (f"guest:{email_index(e)}" for e in ("long-ago@example.com", "recent@example.com"))
    kept_key = DataKey.objects.get(subject=kept).key_id
    with at(60):  # the carrier was told; that record keeps naming the guest's blind index for years
        Disclosure.objects.create(processor="carrier", purpose="delivery", country="DE", safeguard="contract",
                                  guest_index=email_index("long-ago@example.com"), reference=old.reference)
    with at(121):
        run = purge()
        assert run.counts["orders.delivered"]["count"] == 1
        assert keys_sweep_task.delay().get() == 1  # the beat task scheduled after the purge
    assert not DataKey.objects.filter(subject=gone).exists()
    assert Tombstone.objects.filter(subject=gone).count() == 1
    forget_cache()
    assert Order._meta.get_field("shipping_name").from_db_value(backup_copy, None, connection) == ERASED
    # The guest whose order is still within its period keeps their key and their details.
    assert DataKey.objects.get(subject=kept).key_id == kept_key and not Tombstone.objects.filter(subject=kept).exists()
    assert Order.objects.get(pk=recent.pk).shipping_name == "Tu Youyou"


@pytest.mark.promise("P10")
def test_values_written_during_an_outage_move_under_their_persons_key_once_the_store_is_back(product, caplog):
    customer = UserFactory(name="Grace Hopper")
    before_outage = completed(email="anonymised@example.com", shipping_name="Someone")
    erase_subject(email="anonymised@example.com")  # anonymised: nobody's any more, stays shop-wide
    anonymised_raw = raw(Order, before_outage.pk, "shipping_name")
    with key_store_away():
        reference = Shopper(Client()).buy(product, email="outage@example.com", name="Dorothy Vaughan")
        profile = User.objects.get(pk=customer.pk)
        profile.name = "Grace Brewster Hopper"  # the profile changed while the store is away
        profile.save()
    assert "sealed under the shop-wide key" in caplog.text
    order = Order.objects.get(reference=reference)
    assert not raw(Order, order.pk, "shipping_name").startswith(PREFIX)  # under the shop-wide key
    assert not raw(User, customer.pk, "name").startswith(PREFIX)

    report = keys_sweep()
    assert report.resealed.get("orders.Order") == 1 and report.resealed.get("shop.User") == 1
    guest_key = DataKey.objects.get(subject=f"guest:{email_index('outage@example.com')}").key_id
    for column in ("shipping_name", "email", "shipping_line1"):
        stored = raw(Order, order.pk, column)
        assert stored.startswith(PREFIX + guest_key.encode() + b":"), column
    assert key_id_of(raw(User, customer.pk, "name")) == DataKey.objects.get(subject=f"user:{customer.pk}").key_id
    forget_cache()
    assert Order.objects.get(pk=order.pk).shipping_name == "Dorothy Vaughan"
    assert User.objects.get(pk=customer.pk).name == "Grace Brewster Hopper"
    # What must not happen: a row that belongs to nobody is left as it was, and a second sweep
    # finds nothing more to re-seal.
    assert raw(Order, before_outage.pk, "shipping_name") == anonymised_raw
    assert keys_sweep().resealed == {}
    assert raw(Order, order.pk, "shipping_name").startswith(PREFIX + guest_key.encode())


@pytest.mark.promise("P10")
def test_a_sweep_with_the_key_store_away_changes_nothing_and_says_so(product):
    with key_store_away():
        reference = Shopper(Client()).buy(product, email="outage@example.com", name="Dorothy Vaughan")
        order = Order.objects.get(reference=reference)
        stored = raw(Order, order.pk, "shipping_name")
        with at(5):
            report = keys_sweep()
        assert report.key_store_down and report.keys_destroyed == 0 and report.resealed == {}
        assert raw(Order, order.pk, "shipping_name") == stored


@pytest.mark.promise("P10")
def test_rotation_rewrites_only_values_under_the_shop_wide_key(product, settings):
    """Values sealed per person are not rewritten by rotate_encryption_key at all (their keys are
    re-wrapped); a value left under the shop-wide key by an outage is re-encrypted."""
    from privacy.keys.rotation import count_under_old_keys, rotate

    sealed = completed(email="sealed@example.com", shipping_name="Emmy Noether")
    with key_store_away():
        reference = Shopper(Client()).buy(product, email="outage@example.com", name="Dorothy Vaughan")
    wide = Order.objects.get(reference=reference)
    sealed_before, wide_before = raw(Order, sealed.pk, "shipping_name"), raw(Order, wide.pk, "shipping_name")
    settings.CRYPTOGRAPHY_OLD_KEYS = [settings.CRYPTOGRAPHY_KEY]
    settings.CRYPTOGRAPHY_KEY = "a-new-master-key-" + "r" * 32
    reports = {r.model_label: r.rows for r in rotate(batch_size=10)}
    assert reports["orders.Order"] == 1  # the shop-wide one only
    assert raw(Order, sealed.pk, "shipping_name") == sealed_before  # not even re-sealed
    assert raw(Order, wide.pk, "shipping_name") != wide_before
    assert count_under_old_keys()["orders.Order"] == 0
    settings.CRYPTOGRAPHY_OLD_KEYS = []
    forget_cache()
    assert Order.objects.get(pk=sealed.pk).shipping_name == "Emmy Noether"
    assert Order.objects.get(pk=wide.pk).shipping_name == "Dorothy Vaughan"


@pytest.mark.promise("P13")
def test_a_provisional_key_takes_its_accounts_name_and_one_whose_sign_up_rolled_back_goes(
        django_capture_on_commit_callbacks):
    """A new account's key is named `pending:…` until its row has an id. If the rename failed (the
    key store went away at that moment), erasure would look for `user:<id>` and miss the key, and
    a backup would keep opening: the sweep gives the key its account's name. A sign-up rolled back
    after its key was made leaves a key nobody is sealed under: the sweep destroys it."""
    from django.db import IntegrityError, transaction

    with at(0):
        stranded = UserFactory(email="stranded@example.com", name="Chien-Shiung Wu")
        key_id = DataKey.objects.get(subject=f"user:{stranded.pk}").key_id
        DataKey.objects.filter(key_id=key_id).update(subject="pending:lost-rename")  # as if the rename failed
        with pytest.raises(IntegrityError), transaction.atomic():  # two sign-ups with one address at once:
            User.objects.create_user("stranded@example.com")  # the insert fails after its key was made
        orphan = DataKey.objects.filter(subject__startswith="pending:").exclude(key_id=key_id).get()
        forget_cache()
    with at(0.5):  # a key handed out within the last day is never touched
        report = keys_sweep()
        assert report.keys_named == 0 and report.keys_destroyed == 0
    with at(2):
        report = keys_sweep()
    assert report.keys_named == 1 and report.keys_destroyed == 1
    assert DataKey.objects.get(key_id=key_id).subject == f"user:{stranded.pk}"
    assert not DataKey.objects.filter(key_id=orphan.key_id).exists()
    forget_cache()
    assert User.objects.get(pk=stranded.pk).name == "Chien-Shiung Wu"  # its values still open
    with at(3), django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=stranded)  # and its erasure now finds the key
    assert not DataKey.objects.filter(key_id=key_id).exists()
    assert Tombstone.objects.filter(subject=f"user:{stranded.pk}").exists()
