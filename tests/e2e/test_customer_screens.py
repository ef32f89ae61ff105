"""The customer's screens as a person reads them: every page of the personal center and of the
data requests, at desktop (1,280 px) and phone (390 px) width, screenshotted into
tests/artifacts/screenshots/, audited by axe (no serious or critical violation), with no raw
timestamps, model class names, "User #" or sideways scrolling."""
from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.utils import timezone
from django.utils.crypto import get_random_string
from playwright.sync_api import expect

from orders.models import Order, Payment, SupportMessage, SupportThread
from privacy.audit import audit_log
from privacy.consent import ledger as consent
from privacy.models import AccessLogEntry, ConsentRecord, Disclosure
from privacy.protection.crypto import email_index
from privacy.rights.subject_requests import request_open
from shop.models import Address, BrowsingEvent
from tests.e2e.readable import assert_accessible, check_page
from tests.e2e.test_accessibility import sign_in
from tests.factories import OrderFactory, ProductFactory, UserFactory, staff_user

NAME, EMAIL = "Ada Lovelace", "ada@lovelace.example"


def customer_world():
    """A customer with something in every part of their privacy page."""
    user = UserFactory(email=EMAIL, name=NAME, phone="+44 20 7946 0942")
    lamp = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    Address.objects.create(user=user, label="Home", name=NAME, line1="12 Analytical Row", city="London",
                           postal_code="N1 9GU", country="GB", is_default=True)
    shipped = OrderFactory(user=user, email=EMAIL, shipping_name=NAME, shipping_line1="12 Analytical Row",
                           shipping_city="London", shipping_postal_code="N1 9GU", shipping_country="GB",
                           status=Order.Status.SHIPPED, carrier="Parcelways", tracking_number="PW-778",
                           paid_at=timezone.now() - timedelta(days=2), shipped_at=timezone.now())
    Payment.objects.create(order=shipped, gateway="offline", intent_id="pi_ada", amount=shipped.total,
                           status="succeeded", card_brand="visa", card_last4="4242")
    for _ in range(2):
        OrderFactory(user=user, email=EMAIL, shipping_name=NAME, shipping_line1="12 Analytical Row",
                     shipping_city="London", shipping_country="GB", status=Order.Status.COMPLETED,
                     completed_at=timezone.now() - timedelta(days=40))
    thread = SupportThread.objects.create(user=user, order=shipped, email=EMAIL, email_index=email_index(EMAIL),
                                          subject="Where is my lamp?", token=get_random_string(32),
                                          status=SupportThread.Status.ANSWERED)
    SupportMessage.objects.create(thread=thread, body="It has not arrived yet.")
    SupportMessage.objects.create(thread=thread, from_staff=True, body="It is on its way: PW-778.")
    consent.record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, channel="dashboard", user=user)
    BrowsingEvent.objects.create(user=user, product=lamp)
    UserSession.objects.create(user=user, ip="203.0.113.0", session_key=get_random_string(32),
                               user_agent="Firefox on Linux", last_seen_at=timezone.now(), data={})
    Disclosure.objects.create(processor="carrier", purpose="Delivering your parcel",
                              fields=["order.shipping_name", "order.shipping_address"], country="GB",
                              safeguard="Same country", subject_user=user, reference=shipped.reference)
    request_open(kind="question", user=user, message="What do you keep about my lamp order?", notify=False)
    audit_log(actor=staff_user("Customer service"), action=AccessLogEntry.Action.VIEW, model_label="orders.Order",
              object_ids=[shipped.pk], subject_user_ids=[user.pk], reason="Customer asked where the lamp is")
    return user, shipped, thread


CUSTOMER_PAGES = {
    "center": "/account/",
    "profile": "/account/profile/",
    "addresses": "/account/addresses/",
    "orders": "/account/orders/",
    "order": "{order}",
    "privacy": "/account/privacy/",
    "delete-account": "/account/privacy/delete/",
    "privacy-request": "/privacy/contact/",
}


@pytest.mark.promise("P17")
@pytest.mark.parametrize("name", list(CUSTOMER_PAGES))
def test_customer_screen_reads_well_on_desktop_and_phone(page, live_server, snap, name):
    user, order, _ = customer_world()
    sign_in(page, live_server, user)
    page.goto(CUSTOMER_PAGES[name].format(order=order.get_absolute_url()))
    expect(page.locator("main h1")).to_be_visible()
    failing = []
    for width in ("desktop", "phone"):
        failing += check_page(page, snap, name, width=width)
    assert_accessible(failing)


def test_guest_data_request_reads_well(page, snap):
    page.goto("/privacy/my-data/")
    failing = []
    for width in ("desktop", "phone"):
        failing += check_page(page, snap, "guest-data-request", width=width)
    page.get_by_role("textbox", name="Email").fill("grace@example.com")
    page.get_by_role("button").filter(has_text="Send").first.click()
    expect(page.locator("main h1")).to_be_visible()
    failing += check_page(page, snap, "guest-data-request-sent", width="phone")
    assert_accessible(failing)


def test_privacy_page_names_each_part_for_what_it_is(page, live_server, snap):
    user, order, _ = customer_world()
    sign_in(page, live_server, user)
    page.goto("/account/privacy/")
    headings = page.locator("main h2").all_inner_texts()
    for title in ("Your account", "Your orders", "Your addresses", "Your messages", "Where you are signed in",
                  "Your consents", "Who received your data", "When our staff looked at your records"):
        assert title in headings, (title, headings)
    orders = page.locator("#orders")
    expect(orders.get_by_role("heading", name=f"Order {order.reference}")).to_be_visible()
    expect(orders).to_contain_text("Visa ending 4242")
    expect(orders).to_contain_text("Delivered to")
    expect(page.locator("#sessions")).to_contain_text("Firefox on Linux")
    expect(page.locator("#staff-access")).to_contain_text("Viewed a record")
    expect(page.locator("#recipients")).to_contain_text("Parcel carrier")
    # Purpose, basis and retention in plain words; the detail one click away, without JavaScript.
    details = page.locator("#orders details")
    expect(details.locator("dl")).not_to_be_visible()
    details.locator("summary").click()
    expect(details.locator("dl")).to_be_visible()
    expect(details).to_contain_text("When you delete your account")
    # Dates as people read them.
    expect(page.locator("#orders")).to_contain_text(f"{order.created_at.day} {order.created_at:%B %Y}, ")
    expect(page.locator("#orders")).to_contain_text(" UTC")
    # At 1,280 px no table scrolls inside its box: orders are cards of labelled facts.
    assert page.locator("main table").count() == 0
