"""Accessibility: axe-core (bundled by axe-playwright-python), run in the browser, finds no
"serious" or "critical" violation on the shop's main pages, public and signed in, in the cookie
banner's states and along a purchase. "Moderate" and "minor" findings do not fail: they show in
pytest's warnings summary (AccessibilityWarning) and, with their HTML, in the printed output
(``-s``, or the captured output of a failing test).

axe is injected with ``page.evaluate``: Playwright runs it through the DevTools protocol, which
the page's Content-Security-Policy (script-src 'self') does not govern, so no ``bypass_csp`` is
needed and every page is audited with its real CSP in force. ``test_the_audit_catches_violations``
keeps that true: should CSP ever block axe, or axe find nothing, it fails.
"""
from __future__ import annotations

import re
import warnings

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils.crypto import get_random_string
from playwright.sync_api import expect

from orders.models import Order, SupportMessage, SupportThread
from privacy.protection.crypto import email_index
from shop.models import Address
from tests.factories import OrderFactory, ProductFactory, UserFactory

FAILING_IMPACTS = {"serious", "critical"}
AXE = Axe()


class AccessibilityWarning(UserWarning):
    """A "moderate" or "minor" axe finding: shown in pytest's warnings summary, not a failure."""


def describe(violation: dict, label: str, url: str) -> str:
    nodes = violation["nodes"]
    targets = "; ".join(" > ".join(map(str, node["target"])) for node in nodes[:5])
    more = f" (+{len(nodes) - 5} more)" if len(nodes) > 5 else ""
    return (f"[{violation['impact']}] {violation['id']} on {label} ({url}): "
            f"{violation['help']} — {len(nodes)} element(s): {targets}{more}")


def audit(page, label: str) -> list[str]:
    """Run axe on the page as it is now. Every finding is printed (with the offending HTML);
    moderate/minor ones also become warnings; the serious/critical ones are returned."""
    expect(page.locator("main")).to_be_visible()
    results = AXE.run(page).response
    assert results["testEngine"]["name"] == "axe-core", results.get("testEngine")
    failing = []
    for violation in results["violations"]:
        line = describe(violation, label, page.url)
        print(line)
        for node in violation["nodes"][:3]:
            print("    ", node["html"][:200].replace("\n", " "))
            print("      ", (node.get("failureSummary") or "").replace("\n", " | ")[:400])
        if violation["impact"] in FAILING_IMPACTS:
            failing.append(line)
        else:
            warnings.warn(line, AccessibilityWarning, stacklevel=2)
    return failing


def assert_accessible(failing: list[str]) -> None:
    assert not failing, ("axe found serious or critical accessibility violations:\n  "
                         + "\n  ".join(failing))


def sign_in(page, live_server, user) -> None:
    """Hand the browser a session made by Django's test client (no sign-in form to go through)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_the_audit_catches_violations(page):
    """The harness is not blind: on a real page (real CSP), planted faults are reported."""
    page.goto("/privacy/")
    page.evaluate("""() => {
        document.querySelector('main').insertAdjacentHTML('beforeend',
            '<img src="data:,"><input type="text" name="unlabelled">');  // critical, critical
        document.body.insertAdjacentHTML('afterbegin', '<p>Outside any landmark</p>');  // moderate
    }""")
    with pytest.warns(AccessibilityWarning, match=r"\[moderate\] region "):
        failing = audit(page, "page with planted faults")
    assert any(" image-alt " in line for line in failing), failing
    assert any(" label " in line for line in failing), failing


# --- public pages ------------------------------------------------------------------------

PUBLIC_PAGES = {
    "home": "/",
    "product list": "/products/",
    "product page": "{product}",
    "sign in": "/accounts/login/",
    "sign up": "/accounts/signup/",
    "password reset": "/accounts/password/reset/",
    "privacy policy": "/privacy/",
    "cookie settings": "/privacy/cookies/",
    "privacy contact form": "/privacy/contact/",
    "customer service form": "/help/",
}


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page(page, name):
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    ProductFactory(name="Brass Floor Lamp", price="89.00", stock=0)
    page.goto(PUBLIC_PAGES[name].format(product=product.get_absolute_url()))
    assert_accessible(audit(page, name))


def test_cookie_banner_first_visit_and_after_reject_all(page):
    ProductFactory(name="Walnut Desk Lamp", price="49.50")
    page.goto("/")
    banner = page.locator("section.cookie-banner")
    expect(banner).to_be_visible()
    failing = audit(page, "cookie banner (first visit)")
    banner.get_by_role("button", name="Reject all").click()
    expect(page.locator(".message-success")).to_contain_text("Your cookie choices were saved.")
    expect(page.locator("section.cookie-banner")).to_have_count(0)
    failing += audit(page, "after 'Reject all'")
    assert_accessible(failing)


def test_sign_up_with_errors(page):
    page.goto("/accounts/signup/")
    page.get_by_role("textbox", name="Email").fill("lin@example.com")
    page.locator("#id_password1").fill("short")
    page.locator("#id_password2").fill("different")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".errorlist, .field-error").first).to_be_visible()
    assert_accessible(audit(page, "sign up with errors"))


# --- buying ------------------------------------------------------------------------------

def test_purchase_pages(page):
    """Cart with an item, checkout, payment page (offline gateway), order confirmation."""
    product = ProductFactory(name="Walnut Desk Lamp", price="49.50", stock=5)
    page.goto(product.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.locator("table.cart tbody tr")).to_have_count(1)
    failing = audit(page, "cart")

    page.get_by_role("link", name="Check out").click()
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    failing += audit(page, "checkout")
    page.get_by_role("textbox", name="Email").fill("grace@example.com")
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("1 Harbour Road")
    page.get_by_label("City").fill("Halifax")
    page.get_by_label("Postal code").fill("B3H 1A1")
    page.get_by_label("State / region").fill("NS")  # Canada's addresses need the province
    page.get_by_label("Country").select_option(label="Canada")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page).to_have_url(re.compile(r"/orders/[^/]+/pay/$"))
    failing += audit(page, "payment")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page).to_have_url(re.compile(r"/orders/[^/]+/thanks/$"))
    expect(page.locator(".order-status")).to_have_text("Paid")
    failing += audit(page, "order confirmation")
    assert_accessible(failing)


# --- personal center ---------------------------------------------------------------------

ACCOUNT_PAGES = {
    "overview": "/account/",
    "profile": "/account/profile/",
    "address book": "/account/addresses/",
    "address form": "/account/addresses/new/",
    "address form (edit)": "/account/addresses/{address}/edit/",
    "orders": "/account/orders/",
    "order": "{order}",
    "security": "/account/security/",
    "messages": "/account/messages/",
    "conversation": "/account/messages/{thread}/",
    "privacy dashboard": "/account/privacy/",
}


@pytest.mark.parametrize("name", list(ACCOUNT_PAGES))
def test_personal_center_page(page, live_server, name):
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    address = Address.objects.create(user=user, label="Home", name="Ada Lovelace",
                                     line1="12 Analytical Row", city="London", postal_code="N1 9GU",
                                     country="GB", is_default=True)
    order = OrderFactory(user=user, email=user.email, status=Order.Status.SHIPPED,
                         carrier="Parcelways", tracking_number="PW-778")
    thread = SupportThread.objects.create(
        user=user, order=order, email=user.email, email_index=email_index(user.email),
        subject="Where is my lamp?", token=get_random_string(32),
        status=SupportThread.Status.ANSWERED)
    SupportMessage.objects.create(thread=thread, body="It has not arrived yet.")
    SupportMessage.objects.create(thread=thread, from_staff=True, body="It is on its way: PW-778.")
    sign_in(page, live_server, user)
    page.goto(ACCOUNT_PAGES[name].format(address=address.pk, order=order.get_absolute_url(),
                                         thread=thread.pk))
    expect(page.get_by_role("link", name="Your account")).to_be_visible()  # really signed in
    assert_accessible(audit(page, name))
