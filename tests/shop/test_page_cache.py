"""The anonymous page cache (issue 15): what must hold whatever is cached.

Every test first makes sure the page it checks was really answered from the cache (the
X-Page-Cache header says "hit"), so each would fail against a cache that lacks the property."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import returns
from orders.models import Order, OrderLine
from privacy.consent import cookies as cookie_list
from privacy.consent.ledger import record as consent_record
from privacy.models import ConsentRecord, DailyPageViews, DailyProductViews, PolicyVersion
from shop.models import BrowsingEvent, CartItem, Category, Product
from tests.conftest import Shopper
from tests.factories import CategoryFactory, OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

BANNER = 'class="cookie-banner"'
GPC_NOTE = "Global Privacy Control signal"
NOTICE = "Our privacy policy changes on"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def visitor(*, gpc: bool = False) -> Client:
    """A browser of its own, with CSRF checks on as in production."""
    return Client(enforce_csrf_checks=True, **({"HTTP_SEC_GPC": "1"} if gpc else {}))


def page(client: Client, url: str, *, expect: str | None = None) -> str:
    response = client.get(url)
    assert response.status_code == 200
    if expect is not None:
        assert response["X-Page-Cache"] == expect, (url, response["X-Page-Cache"])
    return response.content.decode()


def choose(client: Client, action: str = "accept_all") -> None:
    """Make cookie choices through the banner form, with the token the page gave."""
    token = TOKEN.search(page(client, "/")).group(1)
    response = client.post(reverse("privacy:cookies"), {"action": action, "next": "/", "from": "banner",
                                                        "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and "cookie_consent" in client.cookies


def add_to_cart(client: Client, product: Product, quantity: int) -> None:
    """As a person would: the product page's form, with its token."""
    token = TOKEN.search(page(client, product.get_absolute_url())).group(1)
    response = client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": quantity,
                                                      "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def warm(url: str, *clients: Client) -> None:
    """Each client fetches the page until its variant is cached: a miss, then a hit (after a
    cookie choice, one more: the page that shows its message changes the session, so is not stored)."""
    for client in clients:
        answers = [client.get(url)["X-Page-Cache"] for _ in range(3)]
        assert answers[-1] == "hit", answers


def token_secret(client: Client, html: str) -> tuple[str, str]:
    """(the secret behind the page's CSRF token, the secret in this client's CSRF cookie)."""
    return _unmask_cipher_token(TOKEN.search(html).group(1)), client.cookies["csrftoken"].value


# --- cost -----------------------------------------------------------------------------------


def test_a_warm_anonymous_product_page_makes_at_most_one_query(product, django_assert_max_num_queries):
    for i in range(20):
        CategoryFactory(name=f"Extra {i}")
    first, second = visitor(), visitor()
    warm(product.get_absolute_url(), first)
    with django_assert_max_num_queries(1):
        html = page(second, product.get_absolute_url(), expect="hit")
    assert "Walnut Desk Lamp" in html and "$49.50" in html


def test_a_returning_visitor_with_an_emptied_session_is_served_from_the_cache(product,
                                                                          django_assert_max_num_queries):
    """Cookie choices leave a session behind (its message); once shown, the session is empty."""
    first, returning = visitor(), visitor()
    choose(first, "reject_all")
    choose(returning, "reject_all")  # (with statistics on, the two counters' updates come on top)
    warm(product.get_absolute_url(), first, returning)
    assert "sessionid" in returning.cookies
    with django_assert_max_num_queries(2):  # the (empty) session, the stamp
        html = page(returning, product.get_absolute_url(), expect="hit")
    assert BANNER not in html and token_secret(returning, html)[0] == returning.cookies["csrftoken"].value


def test_warm_list_home_and_search_pages_make_at_most_one_query(catalogue, django_assert_max_num_queries):
    first, second = visitor(), visitor()
    for url in ("/", reverse("shop:product_list") + "?page=2", reverse("shop:product_list") + "?q=Item"):
        warm(url, first)
        with django_assert_max_num_queries(1):
            page(second, url, expect="hit")


# --- a change shows on the very next request ------------------------------------------------


def _pages_showing(product: Product) -> list[str]:
    return ["/", product.get_absolute_url(), reverse("shop:product_list"),
            reverse("shop:product_list") + f"?category={product.category.slug}",
            reverse("shop:product_list") + "?q=Walnut"]


@pytest.mark.parametrize("change, shown", [
    (lambda p: Product.objects.filter(pk=p.pk).update(price=Decimal("39.00")), "$39.00"),  # queryset update
    (lambda p: (setattr(p, "name", "Walnut Reading Lamp"), p.save()), "Walnut Reading Lamp"),  # save(), as the admin
    (lambda p: Category.objects.filter(pk=p.category_id).update(name="Lighting"), "Lighting"),
    (lambda p: connection.cursor().execute("UPDATE shop_product SET price = 12.5 WHERE id = %s", [p.pk]), "$12.50"),
])
def test_a_catalogue_change_shows_on_the_very_next_request_of_every_page(product, change, shown):
    anonymous, chosen = visitor(), visitor()
    choose(chosen)
    urls = _pages_showing(product)
    for url in urls:
        warm(url, anonymous, chosen)
        assert shown not in page(anonymous, url)
    change(product)
    for url in urls:  # (a category's name shows in the navigation of every page)
        for client in (anonymous, chosen):
            assert shown in page(client, url, expect="miss" if client is anonymous else None), url


def test_an_order_taking_stock_shows_on_the_next_request(product):
    anonymous, other = visitor(), visitor()
    warm(product.get_absolute_url(), anonymous, other)
    assert "Only 5 left" in page(anonymous, product.get_absolute_url(), expect="hit")
    Shopper(Client()).buy(product, quantity=5, email="buyer@example.com")
    assert Product.objects.get(pk=product.pk).stock == 0
    for client in (anonymous, other):
        html = page(client, product.get_absolute_url())
        assert "Out of stock" in html and "Only 5 left" not in html and "Add to cart" not in html
    listing = page(anonymous, reverse("shop:product_list"))
    assert "Out of stock" in listing


def test_a_returned_item_restocked_shows_on_the_next_request(user):
    lamp = ProductFactory(name="Desk Lamp", stock=0)
    order = OrderFactory(user=user, status=Order.Status.DELIVERED, paid_at=timezone.now(),
                         delivered_at=timezone.now(), subtotal=Decimal("25.00"), total=Decimal("25.00"))
    OrderLine.objects.filter(order=order).delete()
    line = OrderLine.objects.create(order=order, product=lamp, product_name="Desk Lamp",
                                    unit_price=Decimal("25.00"), quantity=1, line_total=Decimal("25.00"))
    anonymous, other = visitor(), visitor()
    warm(lamp.get_absolute_url(), anonymous, other)
    assert "Out of stock" in page(other, lamp.get_absolute_url(), expect="hit")
    req = returns.return_request_create(order=order, quantities={line.pk: 1}, reason="Too bright")
    returns.return_approve(request=req, by=None)
    returns.return_receive(request=req, by=None)
    for client in (anonymous, other):
        html = page(client, lamp.get_absolute_url())
        assert "Only 1 left" in html and "Add to cart" in html


def test_a_product_taken_off_sale_leaves_every_page_at_once(product):
    anonymous = visitor()
    urls = _pages_showing(product)
    for url in urls:
        warm(url, anonymous)
    Product.objects.filter(pk=product.pk).update(is_active=False)
    assert anonymous.get(product.get_absolute_url()).status_code == 404
    for url in urls[:1] + urls[2:]:
        assert "Walnut Desk Lamp" not in page(anonymous, url)


def test_demo_seeding_shows_on_the_next_request():
    anonymous = visitor()
    warm("/", anonymous)
    assert "product-card" not in page(anonymous, "/", expect="hit")
    call_command("seed_demo", products=12, categories=3, no_images=True, no_staff=True, verbosity=0)
    html = page(anonymous, "/", expect="miss")
    assert html.count('class="product-card"') == 8


# --- never another visitor's anything -------------------------------------------------------


@pytest.mark.promise("P8")
def test_three_anonymous_visitors_in_alternation_each_get_their_own_frame_and_token(product):
    undecided, chosen, gpc = visitor(), visitor(), visitor(gpc=True)
    choose(chosen)
    url = product.get_absolute_url()
    warm(url, undecided, chosen, gpc)
    seen_tokens = set()
    for _ in range(2):
        for client in (undecided, chosen, gpc):
            response = client.get(url)
            html = response.content.decode()
            assert response["X-Page-Cache"] == "hit"
            assert (BANNER in html) is (client is not chosen)
            assert (GPC_NOTE in html) is (client is gpc)
            secret, own = token_secret(client, html)
            assert secret == own  # the visitor's own token, never the one the page was stored with
            seen_tokens.add(secret)
            assert set(response.cookies) <= {"csrftoken"}  # no session, no consent, nobody else's cookie
            if "csrftoken" in response.cookies:
                assert response.cookies["csrftoken"].value == own
    assert len(seen_tokens) == 3


def test_a_first_visit_to_a_cached_page_gets_a_fresh_token_of_its_own(product):
    first = visitor()
    warm(product.get_absolute_url(), first)
    newcomer = visitor()
    response = newcomer.get(product.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    new_secret = response.cookies["csrftoken"].value
    assert new_secret != first.cookies["csrftoken"].value
    assert _unmask_cipher_token(TOKEN.search(response.content.decode()).group(1)) == new_secret
    assert "sessionid" not in response.cookies and "cookie_consent" not in response.cookies


def test_a_signed_in_customer_and_guests_never_share_a_page(product, user):
    user.first_name = "Ada"
    user.save()
    customer, guest, anonymous = visitor(), visitor(), visitor()
    customer.force_login(user)
    url = product.get_absolute_url()
    warm(url, anonymous)
    add_to_cart(customer, product, 2)  # the customer: a cart of 2
    add_to_cart(guest, product, 1)  # a guest with a session and a cart of 1
    for _ in range(2):
        mine = customer.get(url)
        assert mine["X-Page-Cache"] == "bypass"
        html = mine.content.decode()
        assert 'aria-label="2 items"' in html and "Sign out" in html
        theirs = guest.get(url)
        assert theirs["X-Page-Cache"] == "bypass"
        html = theirs.content.decode()
        assert 'aria-label="1 items"' in html and "Sign out" not in html
        response = anonymous.get(url)
        html = response.content.decode()
        assert response["X-Page-Cache"] == "hit"
        assert "badge" not in html and "Sign out" not in html and "Your account" not in html
        assert user.email not in html and "Ada" not in html
        assert set(response.cookies) <= {"csrftoken"}
        assert token_secret(anonymous, html)[0] not in {customer.cookies["csrftoken"].value,
                                                        guest.cookies["csrftoken"].value}
    assert CartItem.objects.count() == 2  # the anonymous visitor added nothing


def test_a_policy_acknowledgement_prompt_stays_with_its_customer(product):
    PolicyVersion.objects.create(version="9.0", body="New rules.", material=True,
                                 published_at=timezone.now() - timedelta(days=20),
                                 effective_at=timezone.now())
    customer, anonymous, chosen = visitor(), visitor(), visitor()
    customer.force_login(UserFactory(date_joined=timezone.now() - timedelta(days=60)))
    choose(chosen)
    url = product.get_absolute_url()
    warm(url, anonymous, chosen)
    for _ in range(2):
        assert "I have read it" in page(customer, url, expect="bypass")
        for client in (anonymous, chosen):
            assert "I have read it" not in page(client, url, expect="hit")


def test_a_flash_message_is_shown_to_its_visitor_only_and_never_stored(product):
    guest, anonymous = visitor(), visitor()
    url = product.get_absolute_url()
    warm(url, anonymous)
    token = TOKEN.search(page(guest, url)).group(1)
    guest.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1, "csrfmiddlewaretoken": token},
               HTTP_REFERER=url)
    assert "Added to your cart" in page(guest, url, expect="bypass")
    html = page(anonymous, url, expect="hit")
    assert "Added to your cart" not in html and "badge" not in html


# --- the banner and the policy notice -------------------------------------------------------


@pytest.mark.promise("P8")
def test_the_banner_shows_exactly_to_those_who_have_not_chosen_and_again_for_a_new_cookie_list(
        product, monkeypatch):
    chosen, undecided, gpc_chosen = visitor(), visitor(), visitor(gpc=True)
    choose(chosen)
    choose(gpc_chosen, "reject_all")
    url = product.get_absolute_url()
    warm(url, chosen, undecided, gpc_chosen)
    assert BANNER not in page(chosen, url, expect="hit")
    assert BANNER not in page(gpc_chosen, url, expect="hit")
    assert BANNER in page(undecided, url, expect="hit")
    monkeypatch.setattr(cookie_list, "COOKIES", [*cookie_list.COOKIES, cookie_list.Cookie(
        "prefs_view", "Remembers grid or list view.", cookie_list.Kind.PREFERENCES, "1 year")])
    for client in (chosen, undecided, gpc_chosen):  # a new list: everyone is asked again
        assert BANNER in page(client, url)
    choose(chosen)
    assert BANNER not in page(chosen, url)
    assert BANNER in page(undecided, url) and BANNER in page(gpc_chosen, url)


@pytest.mark.promise("P21")
def test_a_policy_notice_appears_for_everyone_once_announced_and_goes_when_in_force(product, user):
    anonymous, chosen, gpc, customer = visitor(), visitor(), visitor(gpc=True), visitor()
    choose(chosen)
    customer.force_login(user)
    urls = ["/", product.get_absolute_url(), reverse("shop:product_list")]
    for url in urls:
        warm(url, anonymous, chosen, gpc)
        assert NOTICE not in page(anonymous, url)
    version = PolicyVersion.objects.create(version="8.0", body="Changed.", published_at=timezone.now(),
                                           effective_at=timezone.now() + timedelta(days=14))
    for url in urls:
        for client in (anonymous, chosen, gpc, customer):
            assert NOTICE in page(client, url), url
    PolicyVersion.objects.filter(pk=version.pk).update(effective_at=timezone.now() - timedelta(minutes=1))
    for url in urls:
        for client in (anonymous, chosen, gpc, customer):
            assert NOTICE not in page(client, url), url


# --- counts and recommendations -------------------------------------------------------------


@pytest.mark.promise("P9")
def test_anonymous_counts_stay_exact_for_cached_pages(product):
    counted, uncounted, gpc = visitor(), visitor(), visitor(gpc=True)
    choose(counted)  # accept all: statistics on
    choose(uncounted, "reject_all")
    DailyPageViews.objects.all().delete()
    DailyProductViews.objects.all().delete()
    url = product.get_absolute_url()
    for _ in range(3):
        for client in (counted, uncounted, gpc):
            page(client, url)
    assert page(counted, url, expect="hit")  # the fourth view of the counted visitor, from the cache
    assert DailyProductViews.objects.get(product=product).views == 4
    assert DailyPageViews.objects.get(path="shop:product_detail").views == 4
    page(counted, reverse("shop:product_list"))
    page(counted, reverse("shop:product_list"), expect="hit")
    assert DailyPageViews.objects.get(path="shop:product_list").views == 2
    assert DailyProductViews.objects.get(product=product).views == 4  # a list view counts no product


@pytest.mark.promise("P29")
def test_recommendations_follow_the_signed_in_customers_own_browsing(user):
    kitchen = CategoryFactory(name="Kitchen")
    pan = ProductFactory(name="Iron Pan", category=kitchen, stock=5)
    ProductFactory(name="Stock Pot", category=kitchen, stock=5)
    consent_record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, user=user,
                   channel=ConsentRecord.Channel.DASHBOARD)
    customer, anonymous = visitor(), visitor()
    customer.force_login(user)
    warm(pan.get_absolute_url(), anonymous)
    warm("/", anonymous)
    page(customer, pan.get_absolute_url(), expect="bypass")
    assert BrowsingEvent.objects.filter(user=user, product=pan).count() == 1
    home = page(customer, "/", expect="bypass")
    assert "Recently viewed" in home and "Recommended for you" in home and "Stock Pot" in home
    html = page(anonymous, "/", expect="hit")
    assert "Recently viewed" not in html and "Recommended for you" not in html


# --- forms on cached pages ------------------------------------------------------------------


def test_forms_on_cached_pages_pass_csrf(product):
    first, second, third = visitor(), visitor(), visitor()
    url = product.get_absolute_url()
    warm(url, first)
    for client in (second, third):
        html = page(client, url, expect="hit")
        token = TOKEN.search(html).group(1)
        response = client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1,
                                                         "csrfmiddlewaretoken": token})
        assert response.status_code == 302
    assert sorted(CartItem.objects.values_list("quantity", flat=True)) == [1, 1]
    # The cookie banner's form on a cached page too.
    fourth = visitor()
    html = page(fourth, url, expect="hit")
    assert BANNER in html
    response = fourth.post(reverse("privacy:cookies"), {"action": "reject_all", "next": url, "from": "banner",
                                                        "csrfmiddlewaretoken": TOKEN.search(html).group(1)})
    assert response.status_code == 302 and "cookie_consent" in fourth.cookies
    # Another visitor's token is refused, as without a cache.
    response = third.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1,
                                                     "csrfmiddlewaretoken": TOKEN.search(html).group(1)})
    assert response.status_code == 403


# --- signed-in pages: fragment caches under the same stamp ----------------------------------


@pytest.mark.parametrize("change, shown", [
    (lambda p: Product.objects.filter(pk=p.pk).update(price=Decimal("39.00")), "$39.00"),
    (lambda p: Category.objects.filter(pk=p.category_id).update(name="Lighting"), "Lighting"),
    (lambda p: Product.objects.filter(pk=p.pk).update(stock=0), "Out of stock"),
])
def test_signed_in_pages_show_a_change_on_the_very_next_request(product, user, change, shown):
    customer, other = visitor(), visitor()
    customer.force_login(user)
    other.force_login(UserFactory())
    urls = ["/", reverse("shop:product_list"), reverse("shop:product_list") + f"?category={product.category.slug}",
            reverse("shop:product_list") + "?q=Walnut", product.get_absolute_url(), reverse("shop:cart")]
    for url in urls:
        for client in (customer, other, customer):  # fragments filled and read back
            assert shown not in client.get(url).content.decode()
    change(product)
    for url in urls[:-1]:
        for client in (customer, other):
            html = page(client, url, expect="bypass")
            if url == "/" and shown == "Out of stock":  # home features only what can be bought now
                assert "Walnut" not in html, url
            else:
                assert shown in html, url
    assert ("Lighting" in page(customer, reverse("shop:cart"))) is (shown == "Lighting")  # the navigation


def test_signed_in_list_page_runs_a_constant_number_of_queries(catalogue, user, settings,
                                                              django_assert_max_num_queries):
    settings.SHOP_PAGE_SIZE = 10
    customer = visitor()
    customer.force_login(user)
    url = reverse("shop:product_list") + "?page=2"
    customer.get(url)
    # session, user, cart count, stamp+policy, acknowledgement. Not allauth's session activity
    # (written once per interval: shop.account.activity), nor the product count, the page of
    # products or the categories (remembered under the stamp), nor the restriction (asked only
    # when a cookie choice would allow analytics).
    with django_assert_max_num_queries(5):
        html = page(customer, url, expect="bypass")
    assert html.count('class="product-card"') == 10


def test_a_missing_stamp_row_neither_hides_the_policy_notice_nor_freezes_the_cache(product, client):
    """A database emptied and refilled (a flush, a restore without that row): the notice is still
    read and the stamp comes back, so the next catalogue change is seen."""
    from shop.models import CatalogueStamp

    CatalogueStamp.objects.all().delete()
    PolicyVersion.objects.create(version="8.0", body="Changed.", published_at=timezone.now(),
                                 effective_at=timezone.now() + timedelta(days=14))
    assert NOTICE in page(client, product.get_absolute_url(), expect="bypass")  # nothing cached without it
    Product.objects.filter(pk=product.pk).update(price=Decimal("39.00"))
    assert "$39.00" in page(client, product.get_absolute_url())


# --- signed-in requests: what is remembered or asked less often (issue 15) --------------------


@pytest.mark.parametrize("change, expected", [
    (lambda p: ProductFactory(name="Walnut Side Table", category=p.category, stock=3), "2 products"),
    (lambda p: Product.objects.filter(pk=p.pk).update(is_active=False), "0 products"),
    (lambda p: Product.objects.filter(pk=p.pk).update(name="Oak Desk Lamp"), "0 products"),
])
def test_product_counts_follow_the_catalogue_on_the_very_next_request(product, user, change, expected):
    customer, anonymous = visitor(), visitor()
    customer.force_login(user)
    urls = [reverse("shop:product_list") + "?q=walnut",
            reverse("shop:product_list") + f"?category={product.category.slug}&q=Walnut"]
    for url in urls:
        for client in (customer, anonymous, customer, anonymous):  # counts remembered, pages cached
            assert "1 product<" in client.get(url).content.decode()
    assert page(anonymous, urls[0], expect="hit")
    change(product)
    for url in urls:
        for client in (customer, anonymous):
            assert f"{expected}<" in page(client, url), (url, expected)


@pytest.mark.promise("P17")
def test_a_restriction_stops_a_signed_in_customers_counts_and_recommendations_on_the_next_request(user):
    from privacy.rights.restriction import restriction_lift, restriction_start

    lamp = ProductFactory(name="Brass Lamp", stock=5)
    ProductFactory(name="Brass Shade", category=lamp.category, stock=5)
    consent_record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=True, user=user,
                   channel=ConsentRecord.Channel.DASHBOARD)
    customer = visitor()
    customer.force_login(user)
    choose(customer)  # statistics on, through the banner
    DailyProductViews.objects.all().delete()
    page(customer, lamp.get_absolute_url(), expect="bypass")
    assert DailyProductViews.objects.get(product=lamp).views == 1
    assert "Recommended for you" in page(customer, "/")
    restriction_start(user=user)
    html = page(customer, lamp.get_absolute_url(), expect="bypass")
    assert DailyProductViews.objects.get(product=lamp).views == 1  # not counted
    assert BrowsingEvent.objects.filter(user=user).count() == 1  # not recorded
    assert "Recommended for you" not in html and "Recommended for you" not in page(customer, "/")
    restriction_lift(user=user)
    page(customer, lamp.get_absolute_url(), expect="bypass")
    assert DailyProductViews.objects.get(product=lamp).views == 2
    assert "Recommended for you" in page(customer, "/")


def test_a_signed_in_product_page_asks_its_consent_once(product, user, django_assert_max_num_queries):
    customer = visitor()
    customer.force_login(user)
    customer.get(product.get_absolute_url())
    # session, user, product, personalisation consent (once: it is off, so no restriction
    # either), cart count, stamp+policy, acknowledgement.
    with django_assert_max_num_queries(7):
        page(customer, product.get_absolute_url(), expect="bypass")


@pytest.mark.promise("P21")
def test_the_acknowledgement_prompt_follows_publication_and_acknowledgement_on_the_next_request(product):
    old = UserFactory(date_joined=timezone.now() - timedelta(days=60))
    other = UserFactory(date_joined=timezone.now() - timedelta(days=60))
    newcomer = UserFactory(date_joined=timezone.now())
    customer, neighbour, late = visitor(), visitor(), visitor()
    for client, person in ((customer, old), (neighbour, other), (late, newcomer)):
        client.force_login(person)
    url = product.get_absolute_url()
    for client in (customer, neighbour, late):
        assert "I have read it" not in page(client, url)
    PolicyVersion.objects.create(version="8.1", body="Typos.", material=False,
                                 published_at=timezone.now() - timedelta(days=1), effective_at=timezone.now())
    assert "I have read it" not in page(customer, url)  # a change that is not material asks nothing
    PolicyVersion.objects.create(version="9.0", body="New rules.", material=True,
                                 published_at=timezone.now() - timedelta(days=20), effective_at=timezone.now())
    html = page(customer, url)
    assert "I have read it" in html and reverse("privacy:acknowledge", args=["9.0"]) in html
    assert "I have read it" in page(neighbour, url)
    assert "I have read it" not in page(late, url)  # joined after it was published
    token = TOKEN.search(html).group(1)
    customer.post(reverse("privacy:acknowledge", args=["9.0"]), {"csrfmiddlewaretoken": token})
    assert "I have read it" not in page(customer, url)  # gone on the very next request
    assert "I have read it" in page(neighbour, url)  # still asked of the one who has not read it


def test_the_cart_badge_counts_each_visitors_own_units(product, user):
    customer, guest, other_guest = visitor(), visitor(), visitor()
    customer.force_login(user)
    add_to_cart(customer, product, 2)
    add_to_cart(guest, product, 3)
    assert 'aria-label="2 items"' in page(customer, "/")
    assert 'aria-label="3 items"' in page(guest, "/")
    html = page(other_guest, "/")
    assert 'class="badge"' not in html
