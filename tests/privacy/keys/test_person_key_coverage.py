"""Which rows a person's data key seals (P10, P13): every model whose rows erasure deletes or
blanks — payments, returns, attachments, marketing subscriptions, incident notices, privacy
requests — besides accounts, addresses, orders and conversations; the records kept as proof with
their values (legal holds, the access log, incidents) stay under the shop-wide key and stay
readable after the person is erased."""
from __future__ import annotations

import io
import secrets
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from orders.models import Attachment, Order, Payment, ReturnRequest, SupportMessage
from orders.services import orders_claim_guest
from orders.support import thread_open
from privacy.consent.marketing import subscribe_request
from privacy.models import (
    AffectedPerson,
    DataKey,
    Incident,
    LegalHold,
    MarketingSubscriber,
    PrivacyRequest,
)
from privacy.processors.inventory import PER_PERSON_WORDS, inventory
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.sealing import ERASED, PERSON_KEY_MODELS, PREFIX, key_id_of
from privacy.rights.erasure import erase_subject
from privacy.rights.staff_actions import request_erase_now
from privacy.rights.subject_requests import ERASED_REPLY, request_open
from tests.factories import OrderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def raw(model, pk, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def key_of(subject: str) -> str:
    return DataKey.objects.get(subject=subject).key_id


def opened(model, column: str, stored: bytes) -> str:
    """What a copy of a stored value (a backup's) reads as today."""
    return model._meta.get_field(column).from_db_value(stored, None, connection)


def rows_of(*, user=None, email: str, tag: str) -> dict:
    """One row of every newly covered model for one person (an account, or a guest by email)."""
    order = OrderFactory(user=user, email=email, status=Order.Status.COMPLETED, completed_at=timezone.now())
    payment = Payment.objects.create(order=order, gateway="offline", intent_id=f"pi_{secrets.token_hex(6)}",
                                     amount=order.total, card_brand=f"Brand{tag}", card_last4="4821")
    returned = ReturnRequest.objects.create(order=order, reason=f"The lid of {tag} was cracked",
                                            status=ReturnRequest.Status.REFUSED)
    thread = thread_open(subject=f"About {tag}", body=f"Photo of {tag}", user=user, email=email)
    attachment = Attachment.objects.create(message=SupportMessage.objects.get(thread=thread),
                                           file_name=f"{secrets.token_hex(16)}.bin",
                                           original_name=f"{tag}-parcel.png", content_type="image/png", size=10)
    subscriber = subscribe_request(email=email, channel="checkout", user=user)
    incident = Incident.objects.create(title="Lost laptop", description="A staff laptop was stolen")
    affected = AffectedPerson.objects.create(incident=incident, user=user, email=email, email_index=email_index(email))
    case = request_open(kind=PrivacyRequest.Kind.QUESTION, user=user, email=email, message=f"What do you hold on {tag}?",
                        notify=False, jurisdiction="CA")
    return {
        (Payment, payment.pk, "card_brand"): f"Brand{tag}",
        (Payment, payment.pk, "card_last4"): "4821",
        (ReturnRequest, returned.pk, "reason"): f"The lid of {tag} was cracked",
        (Attachment, attachment.pk, "original_name"): f"{tag}-parcel.png",
        (MarketingSubscriber, subscriber.pk, "email"): email,
        (AffectedPerson, affected.pk, "email"): email,
        (PrivacyRequest, case.pk, "requester_email"): email,
        (PrivacyRequest, case.pk, "message"): f"What do you hold on {tag}?",
        (PrivacyRequest, case.pk, "jurisdiction"): "CA",
    }


@pytest.mark.promise("P10")
def test_every_newly_covered_model_is_sealed_under_its_own_persons_key_and_reads_back():
    customer = UserFactory(email="lise.meitner@example.com", name="Lise Meitner")
    guest_email = "otto.guest@example.com"
    for subject, rows in ((f"user:{customer.pk}", rows_of(user=customer, email=customer.email, tag="Fission")),
                          (f"guest:{email_index(guest_email)}", rows_of(email=guest_email, tag="Hahn"))):
        key_id = key_of(subject)
        for (model, pk, column), value in rows.items():
            stored = raw(model, pk, column)
            assert stored.startswith(PREFIX + key_id.encode() + b":"), (model, column, subject)
            assert value.encode() not in stored
            assert getattr(model.objects.get(pk=pk), column) == value  # reads back through the ORM
    assert {"orders.Payment", "orders.ReturnRequest", "orders.Attachment", "privacy.MarketingSubscriber",
            "privacy.AffectedPerson", "privacy.PrivacyRequest"} <= set(PERSON_KEY_MODELS)


@pytest.mark.promise("P13")
def test_erasure_destroys_the_key_of_every_covered_row_so_a_backup_copy_of_them_reads_erased(
        django_capture_on_commit_callbacks):
    customer = UserFactory(email="rosalind@example.com", name="Rosalind Franklin")
    guest_email = "maurice.guest@example.com"
    mine, theirs = rows_of(user=customer, email=customer.email, tag="Helix"), rows_of(email=guest_email, tag="Wilkins")
    kept_user = UserFactory(email="kept.person@example.com")
    kept = rows_of(user=kept_user, email=kept_user.email, tag="Kept")
    copies = {where: raw(*where) for where in [*mine, *theirs]}  # what a backup taken now holds

    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=customer)
        erase_subject(email=guest_email)
    forget_cache()  # a fresh process, as after a restore

    assert {(model, column): opened(model, column, stored) for (model, _pk, column), stored in copies.items()} \
        == {(model, column): ERASED for (model, _pk, column) in copies}
    for (model, pk, column), value in kept.items():  # someone else's rows are untouched
        assert getattr(model.objects.get(pk=pk), column) == value


@pytest.mark.promise("P13")
def test_a_guests_rows_follow_their_order_into_the_account_and_go_with_it(django_capture_on_commit_callbacks):
    rows = rows_of(email="joiner.pay@example.com", tag="Curie")
    copies = {where: raw(*where) for where in rows}  # a backup taken while they were a guest
    user = UserFactory(email="joiner.pay@example.com")
    assert orders_claim_guest(user=user, email="joiner.pay@example.com") == 1
    payment = Payment.objects.get(pk=next(pk for (m, pk, _c) in rows if m is Payment))
    assert payment.order.user_id == user.pk and payment.card_brand == "BrandCurie"  # nothing re-encrypted
    # Staff edit the claimed order's payment: its values move under the account's key.
    payment.save()
    assert key_id_of(raw(Payment, payment.pk, "card_brand")) == key_of(f"user:{user.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=user)
    forget_cache()
    assert {where: opened(where[0], where[2], stored) for where, stored in copies.items()} \
        == {where: ERASED for where in copies}
    assert not DataKey.objects.filter(subject__in=[f"guest:{email_index('joiner.pay@example.com')}",
                                                   f"user:{user.pk}"]).exists()


@pytest.mark.promise("P13")
def test_records_kept_as_proof_stay_readable_after_the_person_is_erased(django_capture_on_commit_callbacks):
    person = UserFactory(email="grace.proof@example.com")
    officer = staff_user("Privacy officer")
    order = OrderFactory(user=person, status=Order.Status.COMPLETED, completed_at=timezone.now())
    hold = LegalHold.objects.create(target=LegalHold.Target.ORDER, order_id=order.pk, reference=order.reference,
                                    user=person, kind=LegalHold.Kind.LEGAL_CLAIM,
                                    reason="Claim 77 about a damaged crate", legal_basis="Legal claim",
                                    expires_at=timezone.now() - timedelta(days=1))  # expired: erasure proceeds
    case = request_open(kind=PrivacyRequest.Kind.ERASURE, email=person.email, message="Please delete me",
                        notify=False)
    assert not raw(LegalHold, hold.pk, "reason").startswith(PREFIX)  # shop-wide: a legal record

    with django_capture_on_commit_callbacks(execute=True):
        request_erase_now(case=case, email=person.email, by=officer)
    forget_cache()

    assert LegalHold.objects.get(pk=hold.pk).reason == "Claim 77 about a damaged crate"
    closed = PrivacyRequest.objects.get(pk=case.pk)
    # Our answer is the proof the request was handled: it reads, not as "[erased]".
    assert closed.status == PrivacyRequest.Status.COMPLETED and closed.reply == ERASED_REPLY
    assert "Please delete me" not in repr([closed.message, closed.requester_email])


@pytest.mark.promise("P10")
def test_the_record_of_processing_names_the_key_of_each_covered_model():
    keys = {row["model"]: row["encryption_key"] for row in inventory()["models"]}
    for label in ("orders.Payment", "orders.ReturnRequest", "orders.Attachment", "privacy.MarketingSubscriber",
                  "privacy.AffectedPerson", "privacy.PrivacyRequest"):
        assert keys[label] == "per person", label
    for label in ("privacy.LegalHold", "privacy.Incident", "privacy.AccessLogEntry"):
        assert keys[label] == "shop-wide", label


@pytest.mark.promise("P10")
@pytest.mark.promise("P13")
def test_the_policy_page_says_what_erasure_reaches_in_backups(client):
    assert set(PERSON_KEY_MODELS) <= set(PER_PERSON_WORDS)  # every covered model is named
    page = client.get(reverse("privacy:policy"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Erasure and our backups" in text
    for words in ("your orders", "the card brand and last four digits of your payments", "why you returned something",
                  "the files you attached (the files themselves too)", "your newsletter subscription",
                  "your privacy requests and questions", "the details of a legal hold"):
        assert words in text, words
    # the sign-in email too: the shop finds the account by a keyed fingerprint, not the address
    assert "The email you sign in with is encrypted under your key too" in text
    assert "not encrypted" not in text.split("Erasure and our backups", 1)[1].split("</section>", 1)[0]
    assert "backups rotate out within 35 days" in text


@pytest.mark.promise("P13")
def test_rows_written_before_their_model_was_sealed_per_person_move_under_the_persons_key():
    customer = UserFactory(email="legacy.person@example.com")
    rows = rows_of(user=customer, email=customer.email, tag="Legacy")
    guest_rows = rows_of(email="legacy.guest@example.com", tag="OldGuest")
    for (model, pk, column), value in {**rows, **guest_rows}.items():  # as stored before this change
        model._base_manager.filter(pk=pk).update(**{column: value})  # update(): the shop-wide key
        assert not raw(model, pk, column).startswith(PREFIX)
    nobody = Payment.objects.create(order=OrderFactory(user=None, email=""), gateway="offline", intent_id="pi_nobody",
                                    amount=1, card_brand="Anonymous")
    Order.objects.filter(pk=nobody.order_id).update(email_index="")  # an anonymised order: names nobody
    Payment.objects.filter(pk=nobody.pk).update(card_brand="Anonymous")

    out = io.StringIO()
    call_command("privacy_seal_per_person", "--batch-size", "2", stdout=out)
    assert "orders.Payment: 2 rows moved" in out.getvalue()
    for subject, moved in ((f"user:{customer.pk}", rows), (f"guest:{email_index('legacy.guest@example.com')}",
                                                           guest_rows)):
        for (model, pk, column), value in moved.items():
            assert key_id_of(raw(model, pk, column)) == key_of(subject), (model, column)
            assert getattr(model.objects.get(pk=pk), column) == value
    assert not raw(Payment, nobody.pk, "card_brand").startswith(PREFIX)  # no person, no person's key
    assert Payment.objects.get(pk=nobody.pk).card_brand == "Anonymous"
    again = io.StringIO()
    call_command("privacy_seal_per_person", stdout=again)
    assert "nothing left" in again.getvalue()
