"""Every screen of the shopper's journey, as a person sees it, at desktop (1,280 px) and phone (390 px)
width: a screenshot of each (tests/artifacts/screenshots/), axe-core with no serious or critical
violation, and what a person reads: no "User #", no raw timestamps, no model names, headings in
sentence case, the cookie banner clear of the main heading, no sideways scrolling on a phone.

The shopper browses the demo catalogue (shop.demo), buys with a UK address through the offline
gateway, then signs in and visits the account's sign-in pages (email, sessions, two-factor).
"""
from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from shop.demo import load_catalogue
from shop.models import Product
from tests.e2e.test_accessibility import audit, sign_in
from tests.factories import PASSWORD, UserFactory, enable_mfa

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
RAW_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?|\d{2}:\d{2}:\d{2}\.\d{3,}")
DEVELOPER_WORDS = re.compile(r"User #\d|Address #\d|\bobject \(\d+\)|\bEmailAddress\b|\bUserSession\b|"
                             r"\bAuthenticator object\b|\bNone\b|127\.0\.0\.1:\d+")


@pytest.fixture
def catalogue(db):
    load_catalogue(products=24, categories=12, images=True)
    Product.objects.filter(name__startswith="Chef's knife").update(stock=10)
    return Product.objects.all()


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, new_context, snap):
    """A browser page at the given width, and check(label): the checks every screen must pass."""
    width = request.param
    page = new_context().new_page()
    page.set_viewport_size(VIEWPORTS[width])
    problems: list[str] = []

    def check(label: str, *, heading: str | None = None) -> None:
        expect(page.locator("main")).to_be_visible()
        snap(page, f"{width}-{label}")
        text = page.inner_text("body")
        for pattern, what in ((RAW_TIMESTAMP, "a raw timestamp"), (DEVELOPER_WORDS, "a developer's word")):
            found = pattern.search(text)
            if found:
                problems.append(f"{label}: {what} {found.group(0)!r}")
        h1 = page.locator("main h1")
        expect(h1).to_have_count(1)
        title = " ".join(h1.inner_text().split())
        if heading is not None and title != heading:
            problems.append(f"{label}: heading {title!r}, expected {heading!r}")
        words = [w.strip(".,:;!?“”\"'()") for w in title.split()[1:]]
        later_words = [w for w in words if w.isalpha() and len(w) > 3 and not w.isupper()]
        if len(later_words) >= 2 and all(w[0].isupper() for w in later_words):
            problems.append(f"{label}: Title Case heading {title!r}")
        for label_text in page.locator("main label").all_inner_texts():
            if label_text.strip().rstrip(" *").endswith(":"):
                problems.append(f"{label}: colon label {label_text!r}")
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
            problems.append(f"{label}: scrolls sideways at {VIEWPORTS[width]['width']} px")
        banner = page.locator("section.cookie-banner")
        if banner.count():
            box, top = h1.bounding_box(), banner.bounding_box()
            if box and top and box["y"] + box["height"] > top["y"]:
                problems.append(f"{label}: the cookie banner covers the main heading")
        problems.extend(audit(page, f"{label} at {width}"))

    check.page = page
    check.problems = problems
    check.width = width
    return check


def test_shopper_journey_screens(screen, catalogue, live_server):
    page, check = screen.page, screen

    page.goto("/")
    expect(page.locator("section.cookie-banner")).to_be_visible()
    # The banner floats over the page instead of pushing it down: the header starts at the top, and
    # the notice bar is right under the header.
    header_bottom = page.locator("header.site-header").bounding_box()
    notice = page.locator(".notice-bar").bounding_box()
    assert abs(notice["y"] - (header_bottom["y"] + header_bottom["height"])) < 2
    accept = page.locator("section.cookie-banner button", has_text="Accept all").bounding_box()
    reject = page.locator("section.cookie-banner button", has_text="Reject all").bounding_box()
    assert (round(accept["width"]), round(accept["height"])) == (round(reject["width"]), round(reject["height"]))
    assert all("Out of stock" not in t for t in page.locator(".product-card").all_inner_texts())
    check("home")

    page.locator("nav.category-nav a", has_text="Kitchen").click()
    expect(page.locator('nav.category-nav a[aria-current="page"]')).to_have_text("Kitchen")
    check("category-list")

    page.get_by_role("link", name=re.compile("Chef's knife")).first.click()
    expect(page.locator("main h1")).to_contain_text("Chef's knife")
    check("product")
    page.get_by_role("button", name="Add to cart").click()

    page.goto("/products/?q=kettle")
    check("search")

    page.goto("/cart/")
    expect(page.locator("table.cart img").first).to_be_visible()  # a thumbnail per line
    check("cart", heading="Your cart")

    page.goto("/checkout/")
    check("checkout")
    link_p = page.locator("main p", has=page.locator("a", has_text="privacy policy")).first
    assert link_p.evaluate("p => getComputedStyle(p).display") == "block"  # the "." stays with its link
    page.fill("#id_email", "ada@example.com")
    page.fill("#id_name", "Ada Lovelace")
    page.fill("#id_line1", "1 Harbour Road")
    page.fill("#id_city", "Bristol")
    page.fill("#id_postal_code", "12345")  # not a UK postcode: refused with a message
    page.select_option("#id_country", "GB")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator(".field-error")).to_contain_text("This is not a postcode used in the United Kingdom")
    check("checkout-error")
    page.fill("#id_postal_code", "bs1 4dj")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/orders/[A-Z0-9]+/pay/$"))
    check("payment")

    page.get_by_role("button", name=re.compile(r"Pay \$")).click()
    expect(page.locator("main")).to_contain_text("Thank you for your order")
    lines = [x.strip() for x in page.locator("main address").first.inner_text().splitlines() if x.strip()]
    assert lines == ["Ada Lovelace", "1 Harbour Road", "Bristol", "BS1 4DJ", "United Kingdom"]
    check("order-confirmation")

    for url, label in (("/privacy/", "policy"), ("/privacy/contact/", "privacy-contact"), ("/help/", "contact")):
        page.goto(url)
        check(label)
    page.goto("/privacy/cookies/")
    expect(page.locator("section.cookie-banner")).to_have_count(0)  # not asked twice on its own page
    check("cookie-settings")

    page.context.clear_cookies()
    for url, label, heading in (("/accounts/login/", "sign-in", "Sign in"),
                                ("/accounts/signup/", "sign-up", "Create an account"),
                                ("/accounts/password/reset/", "password-reset", "Reset your password")):
        page.goto(url)
        check(label, heading=heading)
    page.goto("/accounts/signup/")
    link_p = page.locator("main p", has=page.locator("a", has_text="privacy policy")).first
    assert link_p.evaluate("p => getComputedStyle(p).display") == "block"

    assert not screen.problems, "\n".join(screen.problems)


def test_account_sign_in_screens(screen, db, live_server):
    page, check = screen.page, screen
    user = UserFactory(email="ada@example.com", name="Ada Lovelace")
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    page.goto("/")
    page.locator("section.cookie-banner button", has_text="Reject all").click()

    sign_in(page, live_server, user)
    page.goto("/accounts/email/")
    check("email", heading="Your email address")
    page.goto("/accounts/sessions/")
    check("sessions", heading="Where you are signed in")
    page.goto("/accounts/2fa/")
    check("mfa", heading="Two-factor authentication")
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    check("reauthenticate", heading="Confirm it is you")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.locator("img.totp-qr")).to_be_visible()
    check("mfa-activate", heading="Set up an authenticator app")

    # Signing in to an account with two-factor authentication: the code page.
    enable_mfa(user)
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    check("mfa-authenticate", heading="Enter your authenticator code")

    assert not screen.problems, "\n".join(screen.problems)
