"""Cookies are asked for, explained and controllable (P19); after "Reject all" nothing but the
strictly necessary cookies is set and no page carries a script (P2). Global Privacy Control
keeps marketing off whatever the visitor accepts."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ProductFactory

NECESSARY = {"sessionid", "csrftoken", "cookie_consent", "messages"}  # the declared necessary ones
GPC_HEADERS = {"Sec-GPC": "1"}


def cookie_names(context) -> set[str]:
    return {c["name"] for c in context.cookies()}


def set_cookies(responses) -> list[tuple[str, str, str]]:
    """(name, value, url) of every cookie the responses set, deletions (empty value) included."""
    found = []
    for response in responses:
        for header in response.header_values("set-cookie"):
            for line in header.split("\n"):
                if "=" in line:
                    name, _, rest = line.partition("=")
                    found.append((name.strip(), rest.split(";", 1)[0].strip().strip('"'), response.url))
    return found


@pytest.mark.promise("P2")
@pytest.mark.promise("P19")
def test_reject_all_leaves_only_necessary_cookies_and_no_scripts(page, snap):
    lamp = ProductFactory(name="Walnut Desk Lamp", price="49.50")
    ProductFactory(name="Oak Bookshelf", price="120.00")
    responses = []
    page.context.on("response", lambda response: responses.append(response))

    # First visit: the banner asks, with three equal choices.
    page.goto("/")
    banner = page.locator("section.cookie-banner")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("heading", name="Cookies")).to_be_visible()
    for name in ("Accept all", "Reject all"):
        expect(banner.get_by_role("button", name=name)).to_be_visible()
    expect(banner.get_by_role("link", name="Choose")).to_be_visible()
    assert page.locator("script").count() == 0
    assert cookie_names(page.context) <= NECESSARY, page.context.cookies()
    snap(page, "banner")

    banner.get_by_role("button", name="Reject all").click()
    expect(page.locator(".message-success")).to_contain_text("Your cookie choices were saved.")
    expect(page.locator("section.cookie-banner")).to_have_count(0)
    assert "cookie_consent" in cookie_names(page.context)
    rejected_at = len(responses)

    # Browse: home, a sorted catalogue reached from a campaign, a product, the cart.
    visited = []
    for url in ("/", "/products/?sort=price&utm_campaign=spring", lamp.get_absolute_url(), "/cart/"):
        page.goto(url)
        expect(page.locator("main")).to_be_visible()
        expect(page.locator("section.cookie-banner")).to_have_count(0)
        assert page.locator("script").count() == 0, f"a <script> on {url}"
        visited.append(page.url)
    page.goto(lamp.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()  # a cart needs the session cookie
    expect(page.locator(".message-success")).to_contain_text("Added to your cart")
    assert page.locator("script").count() == 0
    snap(page, "cart-after-reject")

    # The sort was still applied for this page, just not remembered.
    page.goto("/products/?sort=price&utm_campaign=spring")
    expect(page.get_by_label("Sort by")).to_have_value("price")
    expect(page.locator(".product-card").first).to_contain_text("Walnut Desk Lamp")
    snap(page, "catalogue-after-reject")

    names = cookie_names(page.context)
    assert names <= NECESSARY, page.context.cookies()
    assert "prefs_sort" not in names and "mkt_campaign" not in names
    assert {"sessionid", "cookie_consent"} <= names
    optional_set = [(n, v, u) for n, v, u in set_cookies(responses[rejected_at:]) if n not in NECESSARY and v]
    assert optional_set == [], optional_set


@pytest.mark.promise("P19")
def test_global_privacy_control_keeps_marketing_off_after_accept_all(new_context, snap):
    ProductFactory(name="Walnut Desk Lamp", price="49.50")
    ProductFactory(name="Oak Bookshelf", price="120.00")
    context = new_context(extra_http_headers=GPC_HEADERS)
    page = context.new_page()

    page.goto("/")
    banner = page.locator("section.cookie-banner")
    expect(banner).to_be_visible()
    expect(banner.locator(".gpc-note")).to_contain_text("Global Privacy Control")
    snap(page, "gpc-banner")
    banner.get_by_role("button", name="Accept all").click()
    expect(page.locator("section.cookie-banner")).to_have_count(0)

    # A campaign link: marketing stays off, whatever was accepted.
    page.goto("/?utm_campaign=spring")
    expect(page.locator("main")).to_be_visible()
    page.goto("/products/?utm_campaign=spring")
    assert "mkt_campaign" not in cookie_names(context), context.cookies()

    # Preferences were accepted: the catalogue remembers the chosen sort.
    page.get_by_label("Sort by").select_option("-price")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sort=-price"))
    expect(page.locator(".product-card").first).to_contain_text("Oak Bookshelf")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("prefs_sort") == "-price", cookies
    assert "mkt_campaign" not in cookies, cookies
    page.goto("/products/")  # no sort in the URL: the remembered one applies
    expect(page.get_by_label("Sort by")).to_have_value("-price")
    snap(page, "gpc-catalogue")

    # The cookie settings page says marketing stays off unless ticked here, and then asks once more.
    page.get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_text("Your browser sends the Global Privacy Control signal")).to_be_visible()
    expect(page.locator("#c-marketing")).not_to_be_checked()
    expect(page.locator("#c-preferences")).to_be_checked()
    snap(page, "gpc-cookie-settings")
    page.locator("#c-marketing").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your browser asked us not to")
    snap(page, "gpc-second-question")
    page.goto("/products/?utm_campaign=spring")  # leaving the question turns nothing on
    assert "mkt_campaign" not in cookie_names(context), context.cookies()
    page.get_by_role("link", name="Cookie settings").click()
    page.locator("#c-marketing").check()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("button", name="Turn on anyway").click()
    page.goto("/products/?utm_campaign=spring")
    assert "mkt_campaign" in cookie_names(context), context.cookies()


def test_the_cookies_these_journeys_allow_are_exactly_the_declared_necessary_ones():
    from privacy.consent.cookies import COOKIES, Kind

    assert NECESSARY == {c.name for c in COOKIES if c.kind == Kind.NECESSARY}
