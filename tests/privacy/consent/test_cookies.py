"""Cookie consent, proven by inspecting responses: Set-Cookie headers and script tags."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from privacy.consent.cookies import COOKIES, Kind
from privacy.consent.ledger import CONSENT_COOKIE
from privacy.models import ConsentRecord, DailyPageViews, DailyProductViews

pytestmark = pytest.mark.django_db
NECESSARY = {c.name for c in COOKIES if c.kind == Kind.NECESSARY}


def set_cookies(response) -> set[str]:
    return {name for name, morsel in response.cookies.items() if morsel.value and morsel["max-age"] != 0}


def browse(client, product):
    """Several pages, as a visitor would; returns every cookie name set along the way."""
    names = set()
    for url in ("/", reverse("shop:product_list"), reverse("shop:product_list") + "?sort=price&utm_campaign=spring",
                product.get_absolute_url() + "?utm_campaign=spring", reverse("privacy:policy")):
        response = client.get(url)
        assert response.status_code == 200
        names |= set_cookies(response)
    names |= set_cookies(client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1}))
    return names


def scripts(response) -> list[str]:
    return re.findall(r"<script[^>]*>", response.content.decode())


@pytest.mark.promise("P2")
@pytest.mark.promise("P19")
def test_before_any_choice_only_strictly_necessary_cookies_and_no_scripts(client, product):
    names = browse(client, product)
    assert names <= NECESSARY and CONSENT_COOKIE not in names
    page = client.get(product.get_absolute_url())
    assert scripts(page) == []  # no script at all, let alone a tracker
    assert "Accept all" in page.content.decode() and "Reject all" in page.content.decode()
    assert not DailyPageViews.objects.exists() and not DailyProductViews.objects.exists()


@pytest.mark.promise("P19")
def test_the_three_choices_are_equally_prominent(client, db):
    banner = client.get("/").content.decode()
    banner = banner[banner.index('class="cookie-banner"'):banner.index("</section>", banner.index('class="cookie-banner"'))]
    buttons = re.findall(r'<(?:button|a)[^>]*class="button"[^>]*>(Accept all|Reject all|Choose)<', banner)
    assert buttons == ["Accept all", "Reject all", "Choose"]


@pytest.mark.promise("P19")
@pytest.mark.promise("P9")
def test_reject_all_keeps_only_necessary_cookies_and_counts_nothing(client, product):
    response = client.post(reverse("privacy:cookies"), {"action": "reject_all", "from": "banner", "next": "/"})
    assert response["Location"] == "/"
    assert CONSENT_COOKIE in response.cookies
    names = browse(client, product)
    assert names <= NECESSARY
    assert "cookie-banner" not in client.get("/").content.decode()  # not asked again
    assert not DailyPageViews.objects.exists()
    records = ConsentRecord.objects.order_by("purpose")
    assert [(r.purpose, r.granted, r.channel) for r in records] == [
        ("cookies_analytics", False, "banner"), ("cookies_marketing", False, "banner"),
        ("cookies_preferences", False, "banner")]
    assert len({r.consent_id for r in records}) == 1 and len(records[0].consent_id) == 32


@pytest.mark.promise("P9")
def test_accept_all_sets_preference_and_campaign_cookies_and_counts_views_anonymously(client, product):
    client.post(reverse("privacy:cookies"), {"action": "accept_all", "next": "/"})
    names = browse(client, product)
    assert {"prefs_sort", "mkt_campaign"} <= names
    assert DailyProductViews.objects.get(product=product).views == 1
    assert DailyPageViews.objects.get(path="shop:home").views == 1
    for model in (DailyPageViews, DailyProductViews):  # no identifier of any kind is stored
        assert {f.name for f in model._meta.fields} <= {"id", "day", "path", "views", "product"}


def test_the_preference_cookie_remembers_the_sort_order(client, catalogue):
    client.post(reverse("privacy:cookies"), {"action": "save", "preferences": "on"})
    client.get(reverse("shop:product_list"), {"sort": "-price"})
    assert client.get(reverse("shop:product_list")).context["sort"] == "-price"
    client.post(reverse("privacy:cookies"), {"action": "reject_all"})
    assert client.get(reverse("shop:product_list")).context["sort"] == "name"


@pytest.mark.promise("P19")
def test_choose_lets_a_visitor_pick_categories_and_change_them_later(client, product):
    page = client.get(reverse("privacy:cookies")).content.decode()
    assert "sessionid" in page and "prefs_sort" in page and "Always on" in page
    client.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on"})
    names = browse(client, product)
    assert "prefs_sort" not in names and "mkt_campaign" not in names
    assert DailyPageViews.objects.exists()
    response = client.post(reverse("privacy:cookies"), {"action": "reject_all"})
    assert response.cookies["mkt_campaign"]["max-age"] == 0  # optional cookies are removed on withdrawal
    assert ConsentRecord.objects.filter(purpose="cookies_analytics", granted=False).exists()
    footer = client.get("/").content.decode()
    assert reverse("privacy:cookies") in footer and "Cookie settings" in footer


@pytest.mark.promise("P19")
@pytest.mark.promise("P2")
def test_gpc_refuses_marketing_without_asking_and_the_banner_says_so(product):
    client = Client(HTTP_SEC_GPC="1")
    banner = client.get("/").content.decode()
    assert "Global Privacy Control" in banner
    client.post(reverse("privacy:cookies"), {"action": "accept_all", "next": "/"})
    names = browse(client, product)
    assert "mkt_campaign" not in names
    assert "prefs_sort" in names  # other categories still follow the visitor's choice
    record = ConsentRecord.objects.get(purpose="cookies_marketing")
    assert (record.granted, record.channel) == (False, "gpc")


@pytest.mark.promise("P19")
def test_a_change_to_the_cookie_list_asks_again(client, product, monkeypatch):
    client.post(reverse("privacy:cookies"), {"action": "accept_all"})
    assert "cookie-banner" not in client.get("/").content.decode()
    from privacy.consent import cookies

    monkeypatch.setattr(cookies, "COOKIES", [*cookies.COOKIES, cookies.Cookie("new_one", "x", Kind.ANALYTICS, "1 day")])
    assert "cookie-banner" in client.get("/").content.decode()
    names = browse(client, product)
    assert "prefs_sort" not in names  # old consent no longer counts for the new list


def test_a_forged_consent_cookie_is_ignored(client, product):
    client.cookies[CONSENT_COOKIE] = '{"id": "x", "c": {"analytics": true, "marketing": true}}'
    names = browse(client, product)
    assert "mkt_campaign" not in names and not DailyPageViews.objects.exists()


@pytest.mark.promise("P25")
def test_no_geolocation_anywhere(client, db):
    from pathlib import Path

    from privacy.registry import declarations as registry

    response = client.get("/")
    assert "geolocation=()" in response["Permissions-Policy"]
    for path in Path("static").rglob("*.js"):
        assert "geolocation" not in path.read_text()
    words = {n.lower() for e in registry.entries() for n in e.fields} | {
        f.name for e in registry.entries() for f in e.model._meta.fields}
    assert not words & {"latitude", "longitude", "lat", "lng", "geolocation", "location"}
