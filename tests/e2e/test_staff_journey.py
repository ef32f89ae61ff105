"""Customer service sees an order's personal data masked; the privacy officer reveals it only
with a reason; every look is in the access log (P11, P12, P30)."""
from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from orders.models import Order
from privacy.models import AccessLogEntry
from tests.factories import OrderFactory, UserFactory, staff_user

CLEAR = ["Ada Lovelace", "ada@lovelace.example", "12 Analytical Row", "N1 9GU", "+44 20 7946 0942"]
REASON = "Ticket #4411: customer asks us to confirm the delivery address"


@pytest.fixture(autouse=True)
def _roles():
    """The roles come from a data migration, which the flush after an earlier transactional test
    wipes out: put them back (sync_roles is idempotent)."""
    from django.apps import apps

    from privacy.protection.roles import sync_roles

    sync_roles(apps)


def staff_page(new_context, live_server, user):
    """A browser signed in as `user`: the admin's sign-in needs a TOTP code, so the session is
    made by Django's test client and its cookie handed to the browser."""
    client = Client()
    client.force_login(user)
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context.new_page()


@pytest.mark.promise("P11")
@pytest.mark.promise("P12")
@pytest.mark.promise("P30")
def test_staff_see_masked_orders_and_reveal_only_with_a_logged_reason(new_context, live_server, snap):
    customer = UserFactory(email="ada@lovelace.example")
    order = OrderFactory(user=customer, email="ada@lovelace.example", shipping_name="Ada Lovelace",
                         shipping_line1="12 Analytical Row", shipping_city="London", shipping_country="GB",
                         phone="+44 20 7946 0942", status=Order.Status.PAID)
    agent = staff_user("Customer service")
    officer = staff_user("Privacy officer")

    # Customer service: the list and the order, masked.
    page = staff_page(new_context, live_server, agent)
    page.goto("/staff/orders/order/")
    row = page.locator("#result_list tbody tr", has_text=order.reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("A••• L•••")
    expect(row).to_contain_text("a•••@l•••.example")
    expect(row).to_contain_text("London")
    for value in CLEAR:
        expect(page.locator("body")).not_to_contain_text(value)
    snap(page, "cs-order-list")
    row.get_by_role("link", name=order.reference).click()
    expect(page).to_have_url(re.compile(rf"/staff/orders/order/{order.pk}/change/$"))
    personal = page.locator("table.personal-data")
    expect(personal).to_contain_text("A••• L•••")
    expect(personal).to_contain_text("a•••@l•••.example")
    expect(personal).to_contain_text("•••• •••• 42")
    expect(personal).to_contain_text("London")
    for value in CLEAR:
        expect(page.locator("body")).not_to_contain_text(value)
    expect(page.get_by_role("link", name="Reveal (reason required, logged)")).to_have_count(0)
    snap(page, "cs-order-detail")
    page.context.close()

    # The privacy officer opens the same order and asks to reveal it.
    page = staff_page(new_context, live_server, officer)
    page.goto(f"/staff/orders/order/{order.pk}/change/")
    expect(page.locator("table.personal-data")).to_contain_text("A••• L•••")
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")
    page.get_by_role("link", name="Reveal (reason required, logged)").click()
    expect(page).to_have_url(re.compile(rf"/staff/orders/order/{order.pk}/reveal/$"))
    reason = page.get_by_label("Reason")
    expect(reason).to_be_visible()

    # No reason: the browser refuses to send the form; without browser validation, the server does.
    page.get_by_role("button", name="Reveal").click()
    assert reason.evaluate("el => !el.validity.valid")
    expect(page.locator("td.revealed")).to_have_count(0)
    page.locator("#content form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Reveal").click()
    expect(page.locator(".errorlist")).to_contain_text("A reason is required to reveal personal data.")
    expect(page.locator("ul.messagelist")).to_contain_text("Nothing was revealed: a reason is required.")
    expect(page.locator("td.revealed")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Ada Lovelace")
    assert not AccessLogEntry.objects.filter(action="reveal").exists()
    snap(page, "officer-reveal-refused")

    # With a reason: the full values, for this officer alone.
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Reveal").click()
    revealed = page.locator("td.revealed")
    expect(page.get_by_text("Revealed for you alone")).to_be_visible()
    for value in ("Ada Lovelace", "ada@lovelace.example", "12 Analytical Row"):
        expect(revealed.filter(has_text=value)).to_have_count(1)
    snap(page, "officer-revealed")

    # The access log: the agent's list and view, the officer's view and reveal, with the reason.
    entries = list(AccessLogEntry.objects.filter(model_label="orders.Order").order_by("pk"))
    summary = [(e.action, e.actor_id_snapshot, e.actor_role) for e in entries]
    assert ("list", agent.pk, "Customer service") in summary, summary
    assert ("view", agent.pk, "Customer service") in summary, summary
    assert ("view", officer.pk, "Privacy officer") in summary, summary
    cs_view = next(e for e in entries if e.action == "view" and e.actor_id_snapshot == agent.pk)
    assert cs_view.object_ids == [str(order.pk)] and cs_view.subject_user_ids == [customer.pk]
    assert "shipping_name (masked)" in cs_view.fields and "email (masked)" in cs_view.fields
    reveal = AccessLogEntry.objects.get(action="reveal")
    assert reveal.actor_id_snapshot == officer.pk and reveal.actor_role == "Privacy officer"
    assert reveal.reason == REASON
    assert reveal.object_ids == [str(order.pk)] and reveal.subject_user_ids == [customer.pk]
    assert "shipping_name" in reveal.fields and "email" in reveal.fields
    stored = repr([(e.fields, e.object_ids) for e in entries])
    assert not any(value in stored for value in CLEAR)  # the log names fields, never values
