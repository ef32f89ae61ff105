"""A new customer signs up, verifies by the emailed link, signs in, adds an address and sees
an order that was waiting for them (placed as a guest with the same email)."""
from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import expect

from orders.models import Order
from shop.models import Address, User
from tests.factories import OrderFactory

PASSWORD = "Walnut-lamp-2026!"


def test_sign_up_verify_sign_in_add_address_see_order(page, snap):
    waiting = OrderFactory(email="lin@example.com", status=Order.Status.SHIPPED, carrier="Parcelways",
                           tracking_number="PW-778")
    page.goto("/")
    page.get_by_role("link", name="Create account").click()
    page.get_by_role("textbox", name="Email").fill("lin@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("You must be 18 or older to open an account")).to_be_visible()  # box not ticked
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("I am 18 or older").check()
    snap(page, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    link = re.search(r"(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill("lin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Address book").click()
    page.get_by_role("link", name="Add an address").click()
    page.get_by_label("Full name").fill("Lin Chen")
    page.get_by_label("Address line 1").fill("8 Canal Street")
    page.get_by_label("City").fill("Amsterdam")
    page.get_by_label("Postal code").fill("1012 AB")  # Dutch addresses need the postcode
    page.get_by_label("Country").select_option(label="Netherlands")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".address-list")).to_contain_text("8 Canal Street")
    snap(page, "address-book")

    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Orders").click()
    expect(page.locator("main .records")).to_contain_text(waiting.reference)
    page.get_by_role("link", name=waiting.reference).click()
    expect(page.locator(".order-status")).to_have_text("Shipped")
    expect(page.get_by_text("PW-778")).to_be_visible()
    snap(page, "order")

    user = User.objects.get(email="lin@example.com")
    assert Address.objects.get(user=user).is_default
    assert Order.objects.get(pk=waiting.pk).user == user
