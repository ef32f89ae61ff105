"""Erasure reaches backups (P10, P13): a copy of the shop's database taken before an erasure
no longer opens after it, because the people's data keys lived in the key store and are gone.

The backup is a real copy of the database, restored as an operator would after losing it: on
SQLite a file copy (the online backup API) restored over the live database; on PostgreSQL
pg_dump, then pg_restore into a fresh database the shop is pointed at. The key store is the
current one. Then privacy_replay_erasures brings the restored copy to the live state."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_cryptography.fields import EncryptedMixin

from orders.models import Order, SupportMessage, SupportThread
from privacy.models import DataKey, Tombstone
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PREFIX
from privacy.rights.erasure import erase_subject
from shop.models import Address, User
from tests.conftest import Shopper
from tests.factories import ProductFactory, UserFactory

CUSTOMER = {"name": "Hedy Lamarr", "line1": "12 Frequency Hopping Lane", "city": "Vienna-on-Sea",
            "postal_code": "11742", "region": "NY", "phone": "+1 555 0142", "support": "My torpedo remote arrived in pieces"}
GUEST = {"email": "ada.guest@example.com", "name": "Ada Byron", "line1": "9 Analytical Engine Row",
         "city": "Marylebone-Upon-Thames", "postal_code": "90210", "region": "CA", "phone": "+1 555 0177",
         "support": "Where is my difference engine parcel please"}
SECRETS = [v for person in (CUSTOMER, GUEST) for k, v in person.items() if k not in ("email", "region")] + [GUEST["email"]]
KEPT = {"Mary Somerville", "3 Kept Street"}  # a third person, not erased: must stay readable throughout

pytestmark = pytest.mark.django_db(transaction=True)


def _details(person: dict) -> dict:
    return {"name": person["name"], "line1": person["line1"], "city": person["city"],
            "postal_code": person["postal_code"], "region": person["region"], "phone": person["phone"]}


def personal_values() -> dict[str, list]:
    """Every encrypted field of every model, read through the ORM, by model."""
    found = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if names and model not in (DataKey, Tombstone):
            found[model._meta.label] = sorted(model._base_manager.order_by("pk").values_list("pk", *names))
    return found


def raw_values() -> bytes:
    """Every column of every table of the shop's database, as stored."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()]
            out.append(repr(rows).encode())
    return b"\n".join(out)


def _pg_args(settings_dict: dict, name: str) -> tuple[list[str], dict]:
    args = ["-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432),
            "-U", settings_dict["USER"], "-d", name]
    return args, {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}


class Backups:
    """Copy the shop's database and restore the copy, the way each database is backed up."""

    def __init__(self, tmp_path):
        self.path, self.live_name, self.fresh = tmp_path / "shop-backup", connection.settings_dict["NAME"], ""

    def copy(self) -> None:
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            target = sqlite3.connect(self.path)
            connection.connection.backup(target)
            target.close()
        else:
            args, env = _pg_args(connection.settings_dict, self.live_name)
            subprocess.run([shutil.which("pg_dump"), "-Fc", "--no-owner", "-f", str(self.path), *args],
                           check=True, env=env, timeout=120)

    def restore(self) -> None:
        """Into the live SQLite database; on PostgreSQL into a fresh database the shop then uses."""
        if connection.vendor == "sqlite":
            source = sqlite3.connect(self.path)
            connection.ensure_connection()
            source.backup(connection.connection)
            source.close()
        else:
            self.fresh = f"restored_{uuid.uuid4().hex[:10]}"
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {self.fresh}")
            args, env = _pg_args(connection.settings_dict, self.fresh)
            subprocess.run([shutil.which("pg_restore"), "--no-owner", *args, str(self.path)],
                           check=True, env=env, timeout=120)
            connection.close()
            connection.settings_dict["NAME"] = self.fresh
        forget_cache()  # a fresh process after the restore

    def back_to_live(self) -> None:
        if self.fresh:
            connection.close()
            connection.settings_dict["NAME"] = self.live_name
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {self.fresh}")


@pytest.fixture
def backups(tmp_path):
    made = Backups(tmp_path)
    yield made
    made.back_to_live()


@pytest.mark.promise("P10")
@pytest.mark.promise("P13")
def test_a_backup_taken_before_an_erasure_no_longer_opens_and_replay_matches_the_live_state(backups, staff_member):
    product = ProductFactory(name="Signal Lamp", price="20.00", stock=50)
    customer = UserFactory(name=CUSTOMER["name"], phone=CUSTOMER["phone"])
    Address.objects.create(user=customer, country="US", **_details(CUSTOMER) | {"name": CUSTOMER["name"]})
    other = UserFactory(name="Mary Somerville")
    Address.objects.create(user=other, name="Mary Somerville", line1="3 Kept Street", city="Burntisland", country="GB")

    as_customer = Client()
    as_customer.force_login(customer)
    Shopper(as_customer).buy(product, email=customer.email, **_details(CUSTOMER))
    as_customer.post(reverse("orders:support"), {"subject": "Broken remote", "message": CUSTOMER["support"]})
    as_guest = Shopper(Client())
    as_guest.buy(product, email=GUEST["email"], **_details(GUEST))
    as_guest.client.post(reverse("orders:support"), {"email": GUEST["email"], "subject": "Parcel",
                                                     "message": GUEST["support"]})
    Order.objects.update(status=Order.Status.COMPLETED, completed_at=timezone.now())
    assert Order.objects.count() == 2 and SupportThread.objects.count() == 2
    staff = Client()
    staff.force_login(staff_member("Customer service"))

    # Before: everything is readable through the ORM, nothing readable in the raw rows.
    before = repr(personal_values())
    assert all(value in before for value in SECRETS)
    assert not [v for v in SECRETS if v.encode() in raw_values()]
    sealed = Order._base_manager.values_list("shipping_name", flat=True)
    assert Order.objects.get(user=customer).shipping_name == CUSTOMER["name"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_name FROM orders_order")
        assert all(bytes(v).startswith(PREFIX) for (v,) in cursor.fetchall())  # under a person's key
    assert len(list(sealed)) == 2

    backups.copy()

    erase_subject(user=customer)
    erase_subject(email=GUEST["email"])
    stones = set(Tombstone.objects.values_list("subject", flat=True))
    assert {f"user:{customer.pk}", f"guest:{email_index(GUEST['email'])}"} <= stones
    assert not DataKey.objects.filter(subject__in=stones).exists()
    assert not [s for s in stones if "@" in s or "Hedy" in s]  # references only, nothing readable
    live = personal_values()
    assert not [v for v in SECRETS if v in repr(live)]

    backups.restore()
    assert User.objects.filter(pk=customer.pk).exists()  # the restore brought the rows back...
    restored = personal_values()
    leaked = [v for v in SECRETS if v in repr(restored)]
    assert leaked == []  # ...but none of their values opens: through the ORM
    assert not [v for v in SECRETS if v.encode() in raw_values()]  # nor in the raw rows
    assert all(value in repr(restored) for value in KEPT)  # the person not erased is untouched
    assert Order.objects.get(user=customer).shipping_name == ERASED
    assert SupportMessage.objects.filter(thread__user=customer).get().body == ERASED

    # Every page that shows those rows answers, with the placeholder.
    pages = [reverse("admin:orders_order_changelist")]
    pages += [reverse("admin:orders_order_change", args=[pk]) for pk in Order.objects.values_list("pk", flat=True)]
    pages += [reverse("admin:orders_supportthread_change", args=[pk])
              for pk in SupportThread.objects.values_list("pk", flat=True)]
    for url in pages:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert not [v for v in SECRETS if v in response.content.decode()]
    assert ERASED in staff.get(pages[0]).content.decode() or "[erased]" in staff.get(pages[1]).content.decode()
    restored_customer = Client()
    restored_customer.force_login(User.objects.get(pk=customer.pk))
    mine = restored_customer.get(reverse("orders:detail", args=[Order.objects.get(user=customer).reference]))
    assert mine.status_code == 200 and ERASED in mine.content.decode()
    assert restored_customer.get(reverse("orders:threads")).status_code == 200

    call_command("privacy_replay_erasures")
    # The same rows and values as live; only the access log differs (it records the staff views above).
    live.pop("privacy.AccessLogEntry")
    assert personal_values() | {"privacy.AccessLogEntry": None} == live | {"privacy.AccessLogEntry": None}
    assert not User.objects.filter(pk=customer.pk).exists()
    call_command("privacy_replay_erasures")  # idempotent
    assert personal_values() | {"privacy.AccessLogEntry": None} == live | {"privacy.AccessLogEntry": None}
