"""Frozen-time tests for every retention rule: the day before nothing happens, the day after
exactly the expired records change; amounts and references stay; holds postpone."""
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from orders.models import Order, OrderLine, Payment
from privacy.audit.log import audit_log, audit_verify
from privacy.consent import ledger as consent
from privacy.models import (
    AccessLogEntry,
    ConsentRecord,
    Disclosure,
    ExportJob,
    MarketingSubscriber,
    PrivacyRequest,
    PurgePostponement,
    PurgeRun,
)
from privacy.retention.purge import Interrupted, purge
from privacy.rights.restriction import restriction_start
from shop.models import BrowsingEvent, Cart, CartItem, User
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.legal_holds import hold_on

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0)


def at(days, hours=0):
    return time_machine.travel(T0 + timedelta(days=days, hours=hours), tick=False)


def delivered_order(**kw):
    return OrderFactory(status=Order.Status.DELIVERED, paid_at=T0, delivered_at=T0, created_at=T0, **kw)


@pytest.mark.promise("P13")
def test_delivered_orders_lose_the_person_after_120_days_and_keep_the_money():
    order = delivered_order(user=UserFactory(), shipping_name="Ada Lovelace", phone="+44 1", total=Decimal("19.99"))
    Payment.objects.create(order=order, gateway="stripe", intent_id="pi_keep", amount=order.total,
                           card_brand="visa", card_last4="4242", status="succeeded")
    with at(119, 23):
        purge()
    order.refresh_from_db()
    assert order.shipping_name == "Ada Lovelace" and order.anonymised_at is None
    with at(120, 1):
        run = purge()
    order.refresh_from_db()
    assert (order.shipping_name, order.email, order.phone, order.shipping_line1, order.user) == ("", "", "", "", None)
    assert (order.total, order.reference, order.created_at, order.status) == (
        Decimal("19.99"), order.reference, T0, "delivered")
    assert OrderLine.objects.filter(order=order).count() == 1
    payment = Payment.objects.get()
    assert (payment.intent_id, payment.amount, payment.card_last4, payment.card_brand) == ("pi_keep", order.total, "", "")
    assert run.counts["orders.delivered"]["count"] == 1 and run.counts["payments.card_details"]["count"] == 1


@pytest.mark.promise("P13")
def test_unpaid_checkouts_are_deleted_after_30_days():
    with time_machine.travel(T0, tick=False):
        unpaid = OrderFactory(status=Order.Status.PENDING_PAYMENT)
        paid = OrderFactory(status=Order.Status.PAID, paid_at=T0)
    with at(29, 23):
        purge()
    assert Order.objects.filter(pk=unpaid.pk).exists()
    with at(30, 1):
        run = purge()
    assert not Order.objects.filter(pk=unpaid.pk).exists() and Order.objects.filter(pk=paid.pk).exists()
    assert run.counts["orders.unpaid"] == {"action": "delete", "count": 1, "postponed": {}}


@pytest.mark.promise("P13")
@pytest.mark.promise("P17")
def test_a_restricted_users_order_is_postponed_and_staff_see_why():
    user = UserFactory()
    mine, other = delivered_order(user=user), delivered_order(user=UserFactory())
    restriction_start(user=user)
    with at(121):
        run = purge()
    assert Order.objects.get(pk=mine.pk).anonymised_at is None
    assert Order.objects.get(pk=other.pk).anonymised_at is not None
    assert run.counts["orders.delivered"]["postponed"] == {"restriction": 1}
    held = PurgePostponement.objects.get(rule="orders.delivered")  # its decay steps wait too
    assert (held.rule, held.object_id, held.reason) == ("orders.delivered", str(mine.pk), "restriction")


def test_a_payment_dispute_or_an_open_request_postpones_too():
    hold_on(order=delivered_order())
    asked = delivered_order(user=UserFactory())
    PrivacyRequest.objects.create(kind="access", user=asked.user, due_at=T0 + timedelta(days=30))
    with at(121):
        run = purge()
    assert Order.objects.filter(anonymised_at__isnull=True).count() == 2
    assert run.counts["orders.delivered"]["postponed"] == {"legal hold": 1, "open privacy request": 1}


@pytest.mark.promise("P28")
def test_browsing_history_and_session_network_records_go_after_90_days(client, user, password):
    product = ProductFactory()
    with time_machine.travel(T0, tick=False):
        BrowsingEvent.objects.create(user=user, product=product)
        client.post("/accounts/login/", {"login": user.email, "password": password})
        client.get("/account/")
    assert UserSession.objects.count() == 1
    with at(89, 23):
        purge()
    assert BrowsingEvent.objects.count() == 1 and UserSession.objects.count() == 1
    with at(90, 1):
        purge()
    assert BrowsingEvent.objects.count() == 0 and UserSession.objects.count() == 0
    assert Session.objects.count() == 0  # expired (2 weeks) long before


def test_carts_guest_after_30_days_user_after_180():
    product = ProductFactory()
    with time_machine.travel(T0, tick=False):
        guest = Cart.objects.create()
        mine = Cart.objects.create(user=UserFactory())
        for cart in (guest, mine):
            CartItem.objects.create(cart=cart, product=product, quantity=1)
    with at(31):
        purge()
    assert not Cart.objects.filter(pk=guest.pk).exists() and Cart.objects.filter(pk=mine.pk).exists()
    with at(181):
        purge()
    assert not Cart.objects.exists() and not CartItem.objects.exists()


def test_exports_marketing_requests_disclosures_consents_follow_their_rules(settings, tmp_path):
    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        job = ExportJob.objects.create(user=user, token="t" * 32, status="ready", file_name="f" * 32 + ".zip.enc",
                                       expires_at=T0 + timedelta(days=7))
        from privacy.protection.storage import sealed_chunks, sealed_write

        sealed_write(kind="exports", name="f" * 32 + ".zip.enc", data=b"x")
        MarketingSubscriber.objects.create(email="a@example.com", email_index="a" * 64, token="a" * 32)
        consent.record(purpose="cookies_analytics", granted=True, channel="banner", consent_id="c" * 32)
        Disclosure.objects.create(processor="email", fields=["user.email"], country="IE", safeguard="EEA")
        closed = PrivacyRequest.objects.create(kind="question", requester_email="q@example.com", email_index="q" * 64,
                                               message="hello", due_at=T0, status="completed", closed_at=T0)
    with at(6):
        purge()
    assert ExportJob.objects.filter(pk=job.pk).exists()
    with at(8):
        purge()
    assert not ExportJob.objects.exists() and sealed_chunks(kind="exports", name="f" * 32 + ".zip.enc") is None
    with at(31):
        purge()
    assert not MarketingSubscriber.objects.exists()
    with at(3 * 365 + 1):
        purge()
    # The disclosure of T0 is gone; the one left records this run's inactivity warning to `user`.
    assert list(Disclosure.objects.values_list("reference", "subject_user")) == [("inactive account warning", user.pk)]
    assert not ConsentRecord.objects.exists()
    closed.refresh_from_db()
    assert (closed.requester_email, closed.message, closed.kind) == ("", "", "question")


@pytest.mark.promise("P13")
def test_inactive_accounts_are_warned_30_days_ahead_then_erased():
    with time_machine.travel(T0, tick=False):
        sleeper = UserFactory(email="sleeper@example.com")
        User.objects.filter(pk=sleeper.pk).update(last_login=T0)
        active = UserFactory()
        User.objects.filter(pk=active.pk).update(last_login=T0)
    with at(699):
        purge()
    assert mail.outbox == []
    with at(701):
        run = purge()
        User.objects.filter(pk=active.pk).update(last_login=timezone.now())  # this one comes back
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["sleeper@example.com", active.email])
    assert run.counts["accounts.inactive"]["warn"] == 2
    with at(729):
        purge()
    assert User.objects.filter(pk=sleeper.pk).exists()
    with at(731):
        run = purge()
    assert not User.objects.filter(pk=sleeper.pk).exists() and User.objects.filter(pk=active.pk).exists()
    assert run.counts["accounts.inactive"]["count"] == 1


def test_unverified_sign_ups_are_deleted_after_14_days():
    with time_machine.travel(T0, tick=False):
        ghost = UserFactory(verified=False)
        real = UserFactory()
    with at(13):
        purge()
    assert User.objects.filter(pk=ghost.pk).exists()
    with at(15):
        purge()
    assert not User.objects.filter(pk=ghost.pk).exists() and User.objects.filter(pk=real.pk).exists()


@pytest.mark.promise("P11")
def test_old_access_log_entries_leave_and_the_chain_still_verifies():
    with time_machine.travel(T0, tick=False):
        for i in range(5):
            audit_log(actor=None, action="view", model_label="orders.Order", object_ids=[i])
    with at(400):
        recent = [audit_log(actor=None, action="view", model_label="orders.Order", object_ids=[9])]
    with at(731):
        run = purge(batch_size=2)
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [recent[0].pk]
    assert run.counts["audit.entries"]["count"] == 5
    assert audit_verify() == []


@pytest.mark.promise("P13")
def test_a_purge_killed_mid_run_and_run_again_ends_like_a_clean_run():
    def world():
        with time_machine.travel(T0, tick=False):
            return [delivered_order(shipping_name=f"P{i}") for i in range(7)] + \
                   [OrderFactory(status="pending_payment") for _ in range(5)]

    world()
    with at(121):
        with pytest.raises(Interrupted):
            purge(batch_size=3, stop_after_batches=3)  # unpaid: 2 batches; delivered: 1 of 3 batches
        assert PurgeRun.objects.get().status == "failed"
        assert Order.objects.filter(anonymised_at__isnull=False).count() == 3
        purge(batch_size=3)
    crashed = sorted(Order.objects.values_list("reference", "shipping_name", "total", "status"))
    Order.objects.all().delete()
    world()
    with at(121):
        purge(batch_size=3)
    clean = sorted(Order.objects.values_list("shipping_name", "total", "status"))
    assert sorted((n, t, s) for _, n, t, s in crashed) == clean
    assert len(clean) == 7 and {n for n, _, _ in clean} == {""}


def test_two_purges_at_once_do_not_both_run():
    from privacy.retention.purge import _acquire, _release

    assert _acquire("someone-else")
    skipped = purge()
    assert skipped.status == "skipped" and skipped.errors == ["another purge is running"]
    _release("someone-else")
    assert purge().status == "finished"


def test_a_crashed_purge_releases_its_lease_when_it_expires():
    from privacy.retention.purge import _acquire

    with time_machine.travel(T0, tick=False):
        assert _acquire("crashed")
    with at(0, 1):
        assert purge().status == "finished"


def test_dry_run_counts_and_changes_nothing(capsys):
    with time_machine.travel(T0, tick=False):
        order = delivered_order(shipping_name="Keep Me")
    with at(121):
        call_command("privacy_purge", "--dry-run")
    out = capsys.readouterr().out
    assert "orders.delivered                 would anonymise        1" in out
    assert Order.objects.get(pk=order.pk).shipping_name == "Keep Me"
    assert "Keep Me" not in out


def test_periods_can_be_overridden_in_settings(settings):
    settings.PRIVACY_RETENTION_DAYS = {"orders.delivered": 10}
    order = delivered_order()
    with at(11):
        purge()
    assert Order.objects.get(pk=order.pk).anonymised_at is not None


def test_the_policy_page_shows_the_retention_periods(client, settings):
    settings.PRIVACY_RETENTION_DAYS = {"browsing.history": 45}
    page = client.get("/privacy/").content.decode()
    assert "How long we keep it" in page and "45 days" in page and "Delivered orders lose the person" in page


def test_runs_are_listed_for_staff_without_values(client):
    from tests.factories import staff_user

    with time_machine.travel(T0, tick=False):
        delivered_order(shipping_name="Hidden Person")
    with at(121):
        purge()
    client.force_login(staff_user("Privacy officer"))
    page = client.get("/staff/privacy/purgerun/").content.decode()
    assert "finished" in page and "Hidden Person" not in page


@pytest.mark.promise("P13")
def test_support_conversations_and_their_files_go_a_year_after_the_last_message(settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import Attachment, SupportThread
    from orders.support import customer_reply, thread_open
    from privacy.protection.storage import private_names
    from tests.uploads import png_bytes

    with time_machine.travel(T0, tick=False):
        thread_open(subject="Old", body="old", email="a@example.com",
                          files=[SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")])
        busy = thread_open(subject="Busy", body="first", email="b@example.com")
    with at(200):
        customer_reply(thread=busy, body="still here")
    with at(364):
        purge()
    assert SupportThread.objects.count() == 2
    with at(366):
        purge()
    assert list(SupportThread.objects.values_list("pk", flat=True)) == [busy.pk]
    assert not Attachment.objects.exists() and private_names(kind="attachments") == []  # the file went too
    with at(566):
        purge()
    assert not SupportThread.objects.exists()


def test_refunded_before_delivery_and_return_reasons_follow_their_order():
    from orders.models import ReturnRequest

    with time_machine.travel(T0, tick=False):
        refunded = OrderFactory(status=Order.Status.REFUNDED, paid_at=T0, shipping_name="Refunded Person")
        delivered = delivered_order(shipping_name="Returned Person")
        reason = ReturnRequest.objects.create(order=delivered, reason="Too big", status="refunded")
    with at(119):
        purge()
    assert Order.objects.get(pk=refunded.pk).anonymised_at is None
    with at(121):
        purge()
    assert Order.objects.get(pk=refunded.pk).shipping_name == ""
    reason.refresh_from_db()
    assert reason.reason == "" and reason.anonymised_at is not None and reason.status == "refunded"
