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
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Attachment, Order, Payment, ReturnRequest, SupportMessage, SupportThread
from privacy.consent.marketing import subscribe_request
from privacy.models import (
    AffectedPerson,
    DataKey,
    Incident,
    MarketingSubscriber,
    PrivacyRequest,
    Tombstone,
)
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PREFIX
from privacy.registry import declarations as registry
from privacy.rights.erasure import erase_subject
from privacy.rights.subject_requests import request_open
from shop.models import Address, User
from tests.conftest import Shopper
from tests.factories import ProductFactory, UserFactory
from tests.private_files import stored_files
from tests.uploads import png_bytes

CUSTOMER = {"email": "hedy.frequency@example.com", "name": "Hedy Lamarr", "line1": "12 Frequency Hopping Lane", "city": "Vienna-on-Sea",
            "postal_code": "11742", "region": "NY", "phone": "+1 555 0142", "support": "My torpedo remote arrived in pieces"}
GUEST = {"email": "ada.guest@example.com", "name": "Ada Byron", "line1": "9 Analytical Engine Row",
         "city": "Marylebone-Upon-Thames", "postal_code": "90210", "region": "CA", "phone": "+1 555 0177",
         "support": "Where is my difference engine parcel please"}
# What else each of them leaves: a card on the payment, a return's reason, a file's name (and the
# file itself), a question to the privacy team; their subscription and an incident notice hold the email.
CUSTOMER |= {"card_brand": "FrequencyCard", "return": "The torpedo dial snapped off at once",
             "file": "hedy-torpedo-remote.png", "question": "Which frequency notes do you keep"}
GUEST |= {"card_brand": "EngineCard", "return": "The engine crank was missing its pin",
          "file": "ada-engine-parcel.png", "question": "Which engine drawings do you keep"}
# The customer's email is the one she signs in with: it must not open from a backup either.
SECRETS = [v for person in (CUSTOMER, GUEST) for k, v in person.items() if k != "region"]
KEPT = {"Mary Somerville", "3 Kept Street"}  # a third person, not erased: must stay readable throughout

pytestmark = pytest.mark.django_db(transaction=True)


def _details(person: dict) -> dict:
    return {"name": person["name"], "line1": person["line1"], "city": person["city"],
            "postal_code": person["postal_code"], "region": person["region"], "phone": person["phone"]}


def personal_values() -> dict[str, list]:
    """Every encrypted field of every model (the sealed sign-in emails too), read through the ORM, by model."""
    found = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if registry.encrypted_at_rest(f)]
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
    """Copy the shop's database and restore the copy, the way each database is backed up; the
    private files (attachments) too, as a backup of their folder or bucket would."""

    def __init__(self, tmp_path):
        self.path, self.live_name, self.fresh = tmp_path / "shop-backup", connection.settings_dict["NAME"], ""
        self.files = tmp_path / "private-backup"

    def copy(self) -> None:
        shutil.copytree(settings.PRIVATE_ROOT, self.files)
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
        shutil.copytree(self.files, settings.PRIVATE_ROOT, dirs_exist_ok=True)
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
    customer = UserFactory(email=CUSTOMER["email"], name=CUSTOMER["name"], phone=CUSTOMER["phone"])
    Address.objects.create(user=customer, country="US", **_details(CUSTOMER) | {"name": CUSTOMER["name"]})
    other = UserFactory(name="Mary Somerville")
    Address.objects.create(user=other, name="Mary Somerville", line1="3 Kept Street", city="Burntisland", country="GB")

    as_customer = Client()
    as_customer.force_login(customer)
    Shopper(as_customer).buy(product, email=customer.email, **_details(CUSTOMER))
    as_customer.post(reverse("orders:support"), {"subject": "Broken remote", "message": CUSTOMER["support"],
                                                 "files": [ContentFile(png_bytes(), name=CUSTOMER["file"])]})
    as_guest = Shopper(Client())
    as_guest.buy(product, email=GUEST["email"], **_details(GUEST))
    as_guest.client.post(reverse("orders:support"), {"email": GUEST["email"], "subject": "Parcel",
                                                     "message": GUEST["support"],
                                                     "files": [ContentFile(png_bytes(), name=GUEST["file"])]})
    Order.objects.update(status=Order.Status.COMPLETED, completed_at=timezone.now())
    assert Order.objects.count() == 2 and SupportThread.objects.count() == 2 and Attachment.objects.count() == 2
    incident = Incident.objects.create(title="Lost backup tape", description="A tape went missing in transit")
    for person, user, email in ((CUSTOMER, customer, customer.email), (GUEST, None, GUEST["email"])):
        order = Order.objects.get(email_index=email_index(email))
        payment = order.payments.get()  # the card the offline gateway took, as a real card would read
        payment.card_brand, payment.card_last4 = person["card_brand"], "7731"
        payment.save()
        ReturnRequest.objects.create(order=order, reason=person["return"], status=ReturnRequest.Status.REFUSED)
        subscribe_request(email=email, channel="checkout", user=user)
        AffectedPerson.objects.create(incident=incident, user=user, email=email, email_index=email_index(email))
        request_open(kind=PrivacyRequest.Kind.QUESTION, user=user, email=email, message=person["question"],
                     notify=False)
    staff, officer = Client(), Client()
    staff.force_login(staff_member("Customer service"))
    officer.force_login(staff_member("Privacy officer"))

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
    restored_account = User.objects.get(pk=customer.pk)
    assert restored_account.email == ERASED  # the sign-in email too, and allauth's copy of it
    assert list(EmailAddress.objects.filter(user=customer).values_list("email", flat=True)) == [ERASED]
    assert SupportMessage.objects.filter(thread__user=customer).get().body == ERASED
    assert [Payment.objects.get(order__user=customer).card_brand, ReturnRequest.objects.get(order__user=customer).reason,
            Attachment.objects.get(message__thread__user=customer).original_name,
            MarketingSubscriber.objects.get(user=customer).email] == [ERASED] * 4
    # The restored attachment files are there, but sealed under keys that are gone: nothing opens.
    assert len(list(stored_files())) == 2
    assert not [p for p, data in stored_files() if png_bytes() in data or b"Hedy" in data]

    # Every page that shows those rows answers, with the placeholder.
    pages = [reverse("admin:orders_order_changelist")]
    pages += [reverse("admin:orders_order_change", args=[pk]) for pk in Order.objects.values_list("pk", flat=True)]
    pages += [reverse("admin:orders_supportthread_change", args=[pk])
              for pk in SupportThread.objects.values_list("pk", flat=True)]
    pages += [reverse("admin:orders_returnrequest_changelist")]
    pages += [reverse("admin:orders_returnrequest_change", args=[pk])
              for pk in ReturnRequest.objects.values_list("pk", flat=True)]
    officer_pages = [reverse("admin:privacy_marketingsubscriber_changelist"),
                     reverse("admin:privacy_privacyrequest_changelist"),
                     reverse("admin:privacy_incident_change", args=[incident.pk])]
    officer_pages += [reverse("admin:privacy_marketingsubscriber_change", args=[pk])
                      for pk in MarketingSubscriber.objects.values_list("pk", flat=True)]
    officer_pages += [reverse("admin:privacy_privacyrequest_change", args=[pk])
                      for pk in PrivacyRequest.objects.values_list("pk", flat=True)]
    shown = ""
    for client, url in [(staff, url) for url in pages] + [(officer, url) for url in officer_pages]:
        response = client.get(url)
        assert response.status_code == 200, url
        shown += response.content.decode()
        assert not [v for v in SECRETS if v in response.content.decode()], url
    assert ERASED in shown
    for pk in Attachment.objects.values_list("pk", flat=True):  # the file's download: gone, said plainly
        download = staff.get(reverse("admin:orders_attachment", args=[pk]))
        assert download.status_code == 410 and png_bytes() not in download.content
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
