"""Erasure, proven from the outside: afterwards no value of the person is left in any text
column of any table (encrypted ones decrypted) nor in any file the shop wrote."""
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.db import connections, router
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderLine, Payment
from privacy.models import ConsentRecord, PrivacyRequest, ProcessorDeletion
from privacy.registry import declarations as registry
from privacy.rights.erasure import ErasureBlocked, erase_subject, erasure_run_due
from shop.models import User
from tests.factories import PASSWORD, OrderFactory, enable_mfa
from tests.privacy.rights.sample_person import VALUES
from tests.private_files import stored_files

pytestmark = pytest.mark.django_db


def residue(values, settings) -> list[str]:
    """Every place a value still appears: text columns of every table, decrypted fields,
    and every file under the private and media folders."""
    found = []
    for model in apps.get_models():
        table = model._meta.db_table
        db = connections[router.db_for_read(model)]  # the key store's tables live in their own database
        with db.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            raw = repr(cursor.fetchall())
        decrypted = ""
        enc = [f.name for f in model._meta.concrete_fields if registry.encrypted_at_rest(f)]
        if enc:
            decrypted = repr(list(model._base_manager.values_list(*enc)))
        for value in values:
            if value.lower() in raw.lower() or value.lower() in decrypted.lower():
                found.append(f"{table}: {value}")
    for path, data in stored_files():
        found += [f"{path}: {v}" for v in values if v.encode().lower() in data.lower()]
    return found


@pytest.mark.promise("P13")
@pytest.mark.promise("P17")
def test_no_personal_value_survives_erasure_and_order_totals_stay(rich_user, settings, client,
                                                                    django_capture_on_commit_callbacks):
    client.force_login(rich_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:export_start"))  # an export file exists
    client.get("/")  # a session exists
    totals = sorted(Order.objects.filter(user=rich_user).values_list("reference", "total", "created_at"))
    lines = OrderLine.objects.count()
    assert residue(VALUES.values(), settings)  # the scan finds them before
    report = erase_subject(user=rich_user)
    assert residue(VALUES.values(), settings) == []
    assert sorted(Order.objects.values_list("reference", "total", "created_at")) == totals
    assert OrderLine.objects.count() == lines
    assert not User.objects.filter(pk=rich_user.pk).exists()
    assert Order.objects.filter(anonymised_at__isnull=False).count() == 3 and not Order.objects.filter(user__isnull=False)
    assert ConsentRecord.objects.exists() and not ConsentRecord.objects.exclude(consent_id="")  # proof, unlinked
    assert report.deleted["shop.User"] == 1 and report.anonymised["orders.Order"] == 3
    payment = Payment.objects.get(intent_id="pi_hamilton")  # found through the order, before it was unlinked
    assert (payment.card_brand, payment.card_last4, payment.amount) == ("", "", Decimal("19.99"))
    assert client.get(reverse("account:center")).status_code == 302  # signed out everywhere


@pytest.mark.promise("P16")
def test_erasure_deletes_the_stripe_customer_and_records_every_processor(client, shopper, product, stripe_fake,
                                                                         user, django_capture_on_commit_callbacks):
    client.force_login(user)
    shopper.add(product)
    reference = shopper.checkout()["Location"].split("/")[2]
    client.get(reverse("orders:pay", args=[reference]))
    user.refresh_from_db()
    customer = user.stripe_customer_id
    assert customer.startswith("cus_")
    from tests.fakes.stripe_server import confirm_intent

    confirm_intent(stripe_fake.client(), Order.objects.get().payments.get().intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("orders:payment_return", args=[reference]))
    Order.objects.update(status=Order.Status.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):  # Stripe is asked once the erasure commits
        erase_subject(user=user)
    import stripe

    with pytest.raises(stripe.InvalidRequestError):  # the customer is gone at Stripe
        stripe_fake.client().v1.customers.retrieve(customer)
    assert any(r["method"] == "DELETE" and customer in r["path"] for r in stripe_fake.request_log())
    deletions = {d.processor: d.outcome for d in ProcessorDeletion.objects.all()}
    assert deletions["stripe"] == "deleted" and "email" in deletions


@pytest.mark.promise("P17")
def test_open_orders_defer_erasure_and_the_user_is_told(rich_user):
    OrderFactory(user=rich_user, status=Order.Status.SHIPPED)
    with pytest.raises(ErasureBlocked, match="still being paid for, prepared or delivered"):
        erase_subject(user=rich_user)
    assert User.objects.filter(pk=rich_user.pk).exists()


@pytest.mark.promise("P17")
def test_delete_my_account_asks_for_the_password_explains_and_waits_the_grace_period(client, rich_user, settings):
    client.force_login(rich_user)
    page = client.get(reverse("privacy:delete_account")).content.decode()
    assert "What is deleted" in page and "Accounting law" in page and "14 days" in page
    refused = client.post(reverse("privacy:delete_account"), {"password": "wrong"})
    assert refused.status_code == 400 and "That password is not right" in refused.content.decode()
    assert not PrivacyRequest.objects.filter(kind="erasure").exists()
    client.post(reverse("privacy:delete_account"), {"password": PASSWORD})
    req = PrivacyRequest.objects.get(kind="erasure")
    assert req.status == "scheduled" and req.verified_by == "password"
    assert "scheduled for deletion" in client.get(reverse("privacy:dashboard")).content.decode()
    assert erasure_run_due() == 0  # not yet
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)):
        assert erasure_run_due() == 1
    assert not User.objects.filter(pk=rich_user.pk).exists()
    assert mail.outbox[-1].subject == "Your account was deleted" and mail.outbox[-1].to == [VALUES["email"]]
    assert not Client().post(reverse("account_login"), {"login": VALUES["email"], "password": PASSWORD}).wsgi_request.user.is_authenticated


def test_the_deletion_can_be_cancelled_during_the_grace_period(client, rich_user):
    client.force_login(rich_user)
    client.post(reverse("privacy:delete_account"), {"password": PASSWORD})
    client.post(reverse("privacy:delete_account_cancel"))
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert erasure_run_due() == 0
    assert User.objects.filter(pk=rich_user.pk).exists()


def test_deletion_asks_for_the_mfa_code_when_mfa_is_on(client, rich_user):
    enable_mfa(rich_user)
    client.force_login(rich_user)
    response = client.post(reverse("privacy:delete_account"), {"password": PASSWORD, "code": "000000"})
    assert response.status_code == 400 and "authenticator" in response.content.decode()
    assert not PrivacyRequest.objects.filter(kind="erasure").exists()


def test_deferred_erasure_runs_once_the_order_is_done(client, rich_user):
    order = OrderFactory(user=rich_user, status=Order.Status.PAID)
    client.force_login(rich_user)
    client.post(reverse("privacy:delete_account"), {"password": PASSWORD})
    later = timezone.now() + timedelta(days=15)
    with time_machine.travel(later):
        assert erasure_run_due() == 0
        assert PrivacyRequest.objects.get(kind="erasure").status == "deferred"
        assert "waiting for an order" in mail.outbox[-1].subject
    Order.objects.filter(pk=order.pk).update(status=Order.Status.COMPLETED)
    with time_machine.travel(later + timedelta(days=1)):
        assert erasure_run_due() == 1
    assert Order.objects.get(pk=order.pk).total == Decimal("19.99")


@pytest.mark.promise("P17")
def test_erasure_of_a_user_with_1000_orders_runs_a_bounded_number_of_queries(rich_user,
                                                                               django_assert_max_num_queries):
    Order.objects.bulk_create([Order(user=rich_user, email="x", email_index="x", shipping_name="M H",
                                     shipping_line1="l", shipping_city="c", shipping_country="US",
                                     status=Order.Status.COMPLETED, subtotal=1, total=1) for _ in range(1000)])
    with django_assert_max_num_queries(150):
        erase_subject(user=rich_user)
    assert Order.objects.filter(anonymised_at__isnull=False).count() == 1003


@pytest.mark.promise("P20")
def test_staff_record_a_guardians_request_and_erase_the_minors_data(client, rich_user):
    from tests.factories import staff_user

    OrderFactory(user=rich_user, status=Order.Status.PAID)  # open order: a guardian's request still goes ahead
    client.force_login(staff_user("Privacy officer"))
    client.post(reverse("admin:privacy_privacyrequest_add"), {"kind": "guardian", "verified_by": "guardian_documents"})
    req = PrivacyRequest.objects.get(kind="guardian")
    assert req.due_at > req.received_at
    client.post(reverse("admin:privacy_request_erase", args=[req.pk]), {"email": VALUES["email"], "confirm": "on"})
    assert not User.objects.filter(pk=rich_user.pk).exists()
    req.refresh_from_db()
    assert req.status == "completed"


def test_privacy_erase_command(rich_user, capsys):
    from django.core.management import call_command

    call_command("privacy_erase", email=VALUES["email"])
    out = capsys.readouterr().out
    assert "anonymised       3  orders.Order" in out and "deleted          1  shop.User" in out
