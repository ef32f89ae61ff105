"""The staff's screens as a person reads them: the admin home, an order (and one erased on a
guardian's request), a privacy request, the record of processing and the access log, at desktop
(1,280 px) and phone (390 px) width, screenshotted into tests/artifacts/screenshots/, audited by
axe (no serious or critical violation), with no raw timestamps, "User #" or model class names
where a person reads prose."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, Payment
from privacy.audit import audit_log
from privacy.models import AccessLogEntry, PrivacyRequest
from privacy.rights.staff_actions import request_erase_now
from privacy.rights.subject_requests import request_open
from tests.e2e.readable import assert_accessible, check_page
from tests.e2e.test_staff_journey import staff_page
from tests.factories import OrderFactory, UserFactory, staff_user


@pytest.fixture(autouse=True)
def _roles():
    from django.apps import apps

    from privacy.protection.roles import sync_roles

    sync_roles(apps)


def staff_world():
    customer = UserFactory(email="ada@lovelace.example", name="Ada Lovelace")
    order = OrderFactory(user=customer, email=customer.email, status=Order.Status.PAID)
    Payment.objects.create(order=order, gateway="offline", intent_id="pi_ada", amount=order.total,
                           amount_received=order.total, status=Payment.Status.SUCCEEDED, card_brand="visa",
                           card_last4="4242")
    question = request_open(kind="question", user=customer, message="What do you keep about me?", notify=False)
    officer = staff_user("Privacy officer")
    audit_log(actor=officer, action=AccessLogEntry.Action.VIEW, model_label="orders.Order", object_ids=[order.pk],
              subject_user_ids=[customer.pk], reason="Checking a question")
    return {"customer": customer, "order": order, "question": question, "officer": officer}


def guardian_erased_order():
    minor = UserFactory(email="kid@example.com")
    order = OrderFactory(user=minor, email=minor.email, status=Order.Status.PAID)
    Payment.objects.create(order=order, gateway="offline", intent_id="pi_kid", amount=order.total,
                           amount_received=order.total, status=Payment.Status.SUCCEEDED)
    case = request_open(kind=PrivacyRequest.Kind.GUARDIAN, email="parent@example.com", notify=False)
    request_erase_now(case=case, email=minor.email, by=None)
    order.refresh_from_db()
    return order


# (role, url). The record of processing and the access log are registers whose readers need the
# model labels (orders.Order): there the other checks apply, not "no model names".
STAFF_PAGES = {
    "admin-home": ("Privacy officer", "/staff/"),
    "order": ("Customer service", "/staff/orders/order/{order}/change/"),
    "order-erased": ("Customer service", "/staff/orders/order/{erased}/change/"),
    "privacy-request": ("Privacy officer", "/staff/privacy/privacyrequest/{question}/change/"),
    "record-of-processing": ("Privacy officer", "/staff/privacy/accesslogentry/record-of-processing/"),
    "access-log": ("Privacy officer", "/staff/privacy/accesslogentry/"),
}
REGISTERS = {"record-of-processing", "access-log"}


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_staff_screen_reads_well_on_desktop_and_phone(new_context, live_server, snap, name):
    world = staff_world()
    erased = guardian_erased_order() if name == "order-erased" else world["order"]
    role, url = STAFF_PAGES[name]
    page = staff_page(new_context, live_server, world["officer"] if role == "Privacy officer" else staff_user(role))
    page.goto(url.format(order=world["order"].pk, erased=erased.pk, question=world["question"].pk))
    expect(page.locator("#content")).to_be_visible()
    failing = []
    for width in ("desktop", "phone"):
        failing += check_page(page, snap, name, width=width, root="#content",
                              skip_model_names=name in REGISTERS)
    assert_accessible(failing)


def test_the_record_of_processing_is_one_click_from_the_admin_home(new_context, live_server, snap):
    world = staff_world()
    page = staff_page(new_context, live_server, world["officer"])
    page.goto("/staff/")
    page.get_by_role("link", name="Record of processing").click()
    expect(page).to_have_url(re.compile(r"/record-of-processing/$"))
    row = page.locator("#mfaauthenticator tr", has_text="data")
    expect(row).to_contain_text("The secrets inside are encrypted")


def test_an_order_erased_on_a_guardians_request_shows_what_can_still_happen(new_context, live_server, snap):
    order = guardian_erased_order()
    page = staff_page(new_context, live_server, staff_user("Customer service"))
    page.goto(f"/staff/orders/order/{order.pk}/change/")
    expect(page.locator(".erased-order")).to_contain_text("can be refunded in full (the items go back into stock), "
                                                          "not shipped")
    expect(page.get_by_role("link", name="Mark shipped…")).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"^Refund .* in full and close the order$")).click()
    expect(page.locator(".messagelist")).to_contain_text("the order is closed as refunded")
    snap(page, "refunded")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
