"""Hostile bytes, one class at a time (issue 12, section 3); tests/security/test_hostile_sweep.py
sweeps every URL with them. What each test pins down:

* the URL converters (config/converters.py) accept every reference and token the shop makes, and
  a NUL, non-ASCII digits or an over-long value is a 404 before any query;
* the guard (config/middleware.py) refuses a query string or header no database could store
  with a small 400 page that echoes nothing and writes nothing, and drops such a cookie, the
  session cookie included, instead of failing every page;
* the admin's reveal page answers 404 for an id its model cannot hold;
* a policy version name is a slug: the admin refuses others with a message, publishing refuses a
  legacy draft so named, and the migration renames versions already published;
* a correctly signed Stripe event with missing or mistyped fields is answered 400 and recorded,
  changes nothing, and never crashes;
* the 500 page claims nothing about what was or was not saved.
"""
from __future__ import annotations

import importlib
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.apps import apps as django_apps
from django.conf import settings as dj_settings
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from orders import support
from orders.links import guest_order_token, thread_link
from orders.models import Order, Payment, WebhookEvent, new_reference
from privacy.models import AccessLogEntry, LegalHold, PolicyVersion
from privacy.policy import versions as policy
from privacy.rights import export
from privacy.rights.subject_requests import request_open
from tests.factories import OrderFactory, UserFactory, staff_user
from tests.fuzz.hostile import fuzz, isolated

pytestmark = pytest.mark.django_db


# --- converters -------------------------------------------------------------------------------

def test_every_reference_and_token_the_shop_makes_resolves():
    for _ in range(500):
        assert resolve(reverse("orders:detail", args=[new_reference()])).view_name == "orders:detail"
    user = UserFactory()
    order = OrderFactory(user=None)
    thread = support.thread_open(subject="Parcel", body="Where is it?", email="guest@example.com")
    job = export.export_request(user=user)
    access = request_open(kind="access", email="guest@example.com", notify=False)
    from privacy.consent.marketing import subscribe_request

    subscriber = subscribe_request(email="reader@example.com", channel="checkout")
    links = {"orders:guest_detail": guest_order_token(order),
             "orders:guest_thread": thread_link(thread).rsplit("/", 2)[-2],
             "privacy:export_download": export.download_token(job),
             "privacy:guest_download": job.token,
             "privacy:guest_export_confirm": access.confirm_token,
             "privacy:marketing_confirm": subscriber.token,
             "privacy:unsubscribe": subscriber.token,
             "privacy:version": PolicyVersion.objects.get().version}
    for name, value in links.items():
        assert resolve(reverse(name, args=[value])).view_name == name


@pytest.mark.parametrize("name, valid", [
    ("orders:detail", "ABCDEFGHJKLM"), ("orders:pay", "ABCDEFGHJKLM"), ("orders:return", "ABCDEFGHJKLM"),
    ("privacy:version", "1.0"), ("privacy:diff", "1.0"), ("privacy:marketing_confirm", "m" * 32),
    ("privacy:unsubscribe", "m" * 32), ("privacy:guest_export_confirm", "f" * 32),
    ("orders:guest_detail", "abc:def"), ("account:address_edit", "1"),
])
@pytest.mark.parametrize("suffix", ["%00", "%C0%80", "%ED%A0%80", "\u0663", "x" * 400])
def test_a_hostile_path_parameter_is_a_404(client, name, valid, suffix):
    client.force_login(UserFactory())
    url = reverse(name, args=[valid])
    assert client.get(url.replace(f"/{valid}/", f"/{valid}{suffix}/")).status_code == 404


def test_the_reveal_page_answers_404_for_an_id_its_model_cannot_hold():
    officer = Client()
    officer.force_login(staff_user("Privacy officer"))
    customer = UserFactory()
    before = AccessLogEntry.objects.count()
    for bad in ["abc", "1%00", "9" * 5000, "\u0661"]:
        assert officer.get(f"/{dj_settings.ADMIN_URL}shop/user/{bad}/reveal/").status_code == 404
    assert AccessLogEntry.objects.count() == before  # nothing looked at, nothing logged
    assert officer.get(reverse("admin:shop_user_reveal", args=[customer.pk])).status_code == 200


# --- the guard --------------------------------------------------------------------------------

def assert_refused(response):
    assert response.status_code == 400
    page = response.content.decode()
    assert "This request could not be read" in page and "nothing was done with it" in page
    return page


def test_a_nul_in_an_admin_filter_or_search_term_is_refused_with_a_clear_page():
    staff = Client()
    staff.force_login(staff_user("Customer service"))
    before = AccessLogEntry.objects.count()
    for url in [reverse("admin:orders_order_changelist") + "?status__exact=paid%00",
                reverse("admin:orders_order_changelist") + "?q=Zebulon%00Quartermaine",
                reverse("admin:autocomplete") + "?app_label=orders&model_name=order&field_name=user&term=a%00",
                reverse("shop:product_list") + "?%00=1"]:
        page = assert_refused(staff.get(url))
        assert "Zebulon" not in page and "Quartermaine" not in page  # the value is never echoed
    assert AccessLogEntry.objects.count() == before
    assert staff.get(reverse("admin:orders_order_changelist") + "?status__exact=paid").status_code == 200


def test_a_header_holding_a_nul_is_refused():
    assert_refused(Client().get(reverse("shop:home"), HTTP_REFERER="https://example.com/\x00"))
    assert Client().get(reverse("shop:home"), HTTP_REFERER="https://example.com/").status_code == 200


def test_a_session_cookie_holding_a_nul_signs_the_visitor_out_instead_of_failing_every_page():
    from django.contrib.sessions.models import Session

    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert "Your account" in client.get(reverse("shop:home")).content.decode()
    real = client.cookies["sessionid"].value
    client.cookies["sessionid"] = real + "\x00"  # sent quoted ("…\000"), which Python's parser turns into NUL
    response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sign in" in page and "Your account" not in page
    assert response.cookies["sessionid"]["max-age"] == 0  # the browser is told to forget it
    assert Session.objects.filter(session_key=real).exists()  # the real session is untouched
    client.cookies["sessionid"] = real
    assert "Your account" in client.get(reverse("shop:home")).content.decode()


def test_another_cookie_holding_a_nul_is_dropped_and_the_session_kept():
    client = Client()
    client.force_login(UserFactory())
    client.cookies["prefs_sort"] = "price\x00"
    response = client.get(reverse("shop:product_list"))
    assert response.status_code == 200
    assert "Your account" in response.content.decode()
    assert response.cookies["prefs_sort"]["max-age"] == 0
    assert "sessionid" not in response.cookies  # the good cookie is left alone


# --- policy version names -------------------------------------------------------------------------

def test_the_admin_refuses_a_version_name_that_is_not_a_slug():
    staff = Client()
    staff.force_login(staff_user("Privacy officer"))
    response = staff.post(reverse("admin:privacy_policyversion_add"),
                          {"version": "x/y", "title": "Privacy policy", "body": "Text.", "summary": "Change."})
    assert response.status_code == 200
    assert "Use letters, digits, dots, hyphens and underscores only" in response.content.decode()
    assert not PolicyVersion.objects.filter(version="x/y").exists()


def test_a_legacy_draft_with_a_bad_name_cannot_be_published_and_pages_keep_working():
    staff = Client()
    staff.force_login(staff_user("Privacy officer"))
    bad = PolicyVersion.objects.create(version="x/y", body="Text.", summary="Change.")  # as before the rule
    effective = policy.earliest_effective() + timedelta(days=1)
    response = staff.post(reverse("admin:privacy_policyversion_publish", args=[bad.pk]),
                          {"effective_at": effective.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 400
    assert "Rename version" in response.content.decode()
    bad.refresh_from_db()
    assert bad.published_at is None
    assert Client().get(reverse("shop:home")).status_code == 200


def test_the_migration_renames_published_versions_that_are_not_slugs():
    migration = importlib.import_module("privacy.migrations.0014_policy_version_slug")
    soon = timezone.now() + timedelta(days=10)
    announced = PolicyVersion.objects.create(version="x/y", body="Text.", published_at=timezone.now(),
                                             effective_at=soon)
    twin = PolicyVersion.objects.create(version="x:y", body="Text.", published_at=timezone.now() - timedelta(days=9),
                                        effective_at=timezone.now() - timedelta(days=1))
    draft = PolicyVersion.objects.create(version="draft one", body="Text.")
    broken = Client(raise_request_exception=False)
    assert broken.get(reverse("shop:home")).status_code == 500  # what "x/y" did to every page
    migration.rename_published(django_apps, None)
    announced.refresh_from_db(), twin.refresh_from_db(), draft.refresh_from_db()
    assert (announced.version, twin.version, draft.version) == ("x-y", f"x-y-{twin.pk}", "draft one")
    page = Client().get(reverse("shop:home"))
    assert page.status_code == 200 and "/privacy/versions/x-y/" in page.content.decode()


# --- Stripe -------------------------------------------------------------------------------------

SECRET = "whsec_hostile_secret"


@pytest.fixture
def pending(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    order = OrderFactory(status=Order.Status.PENDING_PAYMENT, total=Decimal("49.50"), subtotal=Decimal("49.50"))
    payment = Payment.objects.create(order=order, gateway="stripe", intent_id="pi_hostile1", amount=order.total)
    return order, payment


def event(**intent):
    body = {"id": "pi_hostile1", "object": "payment_intent", "status": "succeeded", "amount_received": 4950,
            "latest_charge": "ch_1", "last_payment_error": None, **intent}
    return {"id": "evt_hostile1", "object": "event", "type": "payment_intent.succeeded",
            "created": int(time.time()), "data": {"object": body}}


def post(client, payload):
    body = json.dumps(payload)  # ASCII: json escapes the rest
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    return client.post(reverse("orders:stripe_webhook"), body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


def drop(key):
    def change(e):
        e.pop(key)
        return e
    return change


MALFORMED = {
    "no id": (drop("id"), "id"),
    "id a number": (lambda e: {**e, "id": 42}, "id"),
    "id of 200 characters": (lambda e: {**e, "id": "evt_" + "x" * 196}, "id"),
    "id with a NUL": (lambda e: {**e, "id": "evt_\x00"}, "id"),
    "no type": (drop("type"), "type"),
    "type a list": (lambda e: {**e, "type": ["payment_intent.succeeded"]}, "type"),
    "no data": (drop("data"), "data.object"),
    "object a list": (lambda e: {**e, "data": {"object": []}}, "data.object"),
    "intent without id": (lambda e: {**e, "data": {"object": {"status": "succeeded"}}}, "data.object.id"),
    "amount as text": (lambda e: event(amount_received="4950"), "data.object.amount_received"),
    "amount a boolean": (lambda e: event(amount_received=True), "data.object.amount_received"),
    "status a number": (lambda e: event(status=1), "data.object.status"),
    "error a string": (lambda e: event(status="requires_payment_method", last_payment_error="no"),
                       "data.object.last_payment_error"),
    "error message with a NUL": (lambda e: event(status="requires_payment_method",
                                                 last_payment_error={"message": "declined\x00"}),
                                 "data.object.last_payment_error.message"),
    "payment details a list": (lambda e: event(latest_charge={"payment_method_details": []}),
                               "latest_charge.payment_method_details"),
    "card brand a number": (lambda e: event(latest_charge={"payment_method_details": {"card": {"brand": 7}}}),
                            "latest_charge.card"),
    "dispute intent a dict": (lambda e: {**e, "type": "charge.dispute.created",
                                         "data": {"object": {"payment_intent": {}}}}, "data.object.payment_intent"),
    "event a list": (lambda e: [e], "event"),
}


@pytest.mark.parametrize("label", MALFORMED)
def test_a_signed_but_malformed_event_is_answered_400_recorded_and_changes_nothing(client, pending, label):
    order, payment = pending
    change, field = MALFORMED[label]
    payload = change(event())
    for _ in range(2):  # Stripe retries: the same answer, one record
        response = post(client, payload)
        assert response.status_code == 400
        assert response.content.decode() == f"malformed event: {field}"
    record = WebhookEvent.objects.get()
    assert record.event_id.startswith("malformed-") and record.type == f"malformed: {field}"
    payment.refresh_from_db(), order.refresh_from_db()
    assert (payment.status, order.status) == (Payment.Status.PENDING, Order.Status.PENDING_PAYMENT)
    assert not LegalHold.objects.exists()


def test_a_well_formed_event_still_marks_the_order_paid(client, pending):
    order, payment = pending
    response = post(client, event(latest_charge={"payment_method_details": {"card": {"brand": "visa",
                                                                                      "last4": "4242"}}}))
    assert (response.status_code, response.content) == (200, b"applied")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert WebhookEvent.objects.get().event_id == "evt_hostile1"


json_value = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=20),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3), max_leaves=8)
INTENT_KEYS = ["id", "status", "amount_received", "last_payment_error", "latest_charge"]


@fuzz(60)
@given(kind=st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed", "charge.dispute.created",
                             "customer.created"]),
       fields=st.dictionaries(st.sampled_from(INTENT_KEYS + ["payment_intent"]), json_value, max_size=4))
def test_signed_events_with_any_field_values_never_crash(client, pending, kind, fields):
    order, payment = pending
    payload = {**event(**fields), "type": kind}
    with isolated():
        response = post(client, payload)
        assert response.status_code in (200, 400), response.content[:200]
        payment.refresh_from_db()
        if response.status_code == 400:
            assert payment.status == Payment.Status.PENDING
            assert WebhookEvent.objects.get().type.startswith("malformed: ")


# --- the 500 page ----------------------------------------------------------------------------------

def test_the_500_page_does_not_claim_that_nothing_was_saved():
    from django.views.defaults import server_error

    page = server_error(RequestFactory().get("/")).content.decode()
    assert "Something went wrong on our side" in page
    assert "may already have been done" in page and "so that nothing is done twice" in page
    assert "was saved" not in page and "nothing was charged" not in page
