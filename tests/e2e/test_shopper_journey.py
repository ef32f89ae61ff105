"""A guest shopper finds a product, buys two, pays (offline gateway) and is confirmed."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from orders.models import Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

NECESSARY_COOKIES = {"sessionid", "csrftoken", "messages"}  # messages: a notice such as "Added to your cart"
STYLESHEET_LOADED = """() => [...document.styleSheets].some(
    s => s.href && s.href.endsWith('/static/css/shop.css') && s.cssRules.length > 0)"""


def set_cookie_names(responses) -> list[str]:
    """Name of every cookie the responses set (even one deleted again on the next page)."""
    names = []
    for response in responses:
        for header in response.header_values("set-cookie"):
            for line in header.split("\n"):  # Playwright may join several Set-Cookie headers
                if line.strip():
                    names.append(f"{line.split('=', 1)[0].strip()} (on {response.request.method} {response.url})")
    return names


def test_guest_finds_buys_and_pays_for_a_product(page, live_server, product, snap):
    ProductFactory(name="Oak Bookshelf", price="120.00")  # must not show up in the search
    ProductFactory(name="Brass Floor Lamp", price="89.00")
    product.refresh_from_db()  # the factory keeps the price as given ("49.50"); read the Decimal
    total = 2 * product.price  # 2 × $49.50
    email = "grace@example.com"

    responses = []
    page.context.on("response", lambda response: responses.append(response))

    # Home page, then the header search box.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good things")
    assert page.evaluate(STYLESHEET_LOADED), "static/css/shop.css did not load"
    header = page.locator("header.site-header")
    header.get_by_role("searchbox", name="Search products").fill(product.name)
    header.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{product.name}”")
    expect(page.locator(".product-card")).to_have_count(1)
    page.locator(".product-card").get_by_role("link", name=product.name).click()

    # Product page: two of them into the cart.
    expect(page).to_have_url(re.compile(rf"/products/{product.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(product.name)
    expect(page.locator(".product-detail .price")).to_contain_text("$49.50")
    page.get_by_label("Quantity").fill("2")
    snap(page, "product")
    page.get_by_role("button", name="Add to cart").click()

    # Cart: right total in USD, free shipping.
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.locator(".message-success")).to_contain_text(f"Added to your cart: {product.name} (now 2)")
    row = page.locator("table.cart tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(product.name)
    expect(row.get_by_label(f"Quantity of {product.name}")).to_have_value("2")
    expect(row.locator("td").nth(3)).to_have_text("$99.00")
    foot = page.locator("table.cart tfoot")
    expect(foot.locator("tr", has_text="Shipping and duties").locator("td")).to_have_text("Free")
    expect(foot.locator("tr.grand-total th")).to_have_text("Total (USD)")
    expect(foot.locator("tr.grand-total td")).to_have_text("$99.00")
    snap(page, "cart")
    page.get_by_role("link", name="Check out").click()

    # Checkout: contact and shipping details.
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    expect(page.locator(".summary .grand-total")).to_have_text("$99.00")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("1 Harbour Road")
    page.get_by_label("City").fill("Halifax")
    page.get_by_label("Postal code").fill("B3H 1A1")
    page.get_by_label("State / region").fill("NS")  # Canada's addresses need the province
    page.get_by_label("Country").select_option(label="Canada")
    snap(page, "checkout")
    page.get_by_role("button", name="Continue to payment").click()

    # Payment page, offline gateway.
    expect(page).to_have_url(re.compile(r"/orders/[^/]+/pay/$"))
    expect(page.locator(".grand-total")).to_have_text("$99.00 USD")
    page.get_by_role("button", name="Pay $99.00 (test payment)").click()

    # Order page: paid, thanked.
    expect(page).to_have_url(re.compile(r"/orders/[^/]+/thanks/$"))
    expect(page.locator(".order-status")).to_have_text("Paid")
    expect(page.get_by_text("Thank you for your order! A confirmation is on its way to your inbox.")).to_be_visible()
    expect(page.locator("table.cart tfoot tr.grand-total td")).to_have_text("$99.00")
    snap(page, "order-confirmation")

    # The database agrees.
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    assert order.email == email
    assert order.total == total == Decimal("99.00")
    assert order.reference in page.url
    product.refresh_from_db()
    assert product.stock == 5 - 2

    # The confirmation email went out (on_commit → eager Celery task → locmem backend).
    confirmations = [m for m in mail.outbox if order.reference in m.subject]
    assert [m.to for m in confirmations] == [[email]], [(m.subject, m.to) for m in mail.outbox]
    assert "is confirmed" in confirmations[0].subject
    assert "  Grace Hopper\n  1 Harbour Road\n  Halifax NS B3H 1A1\n  Canada\n" in confirmations[0].body

    # Strictly necessary cookies only, at any point of the journey.
    assert {c["name"] for c in page.context.cookies()} <= NECESSARY_COOKIES, page.context.cookies()
    set_cookies = set_cookie_names(responses)
    assert {c.split(" ", 1)[0] for c in set_cookies} <= NECESSARY_COOKIES, set_cookies


@pytest.mark.promise("P2")
def test_only_strictly_necessary_cookies(page, product):
    responses = []
    page.context.on("response", lambda response: responses.append(response))
    page.goto(product.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".message-success")).to_contain_text("Added to your cart")
    set_cookies = set_cookie_names(responses)
    assert {c.split(" ", 1)[0] for c in set_cookies} <= NECESSARY_COOKIES, set_cookies
