"""Pages that can show personal data are never kept by a browser or a shared cache: every response
to a signed-in visitor, every answer to a form post, and every page under account/, accounts/,
orders/, order-link/, help/conversation/, privacy/my-data/ and the staff admin carry
Cache-Control: no-store. Anonymous catalogue pages stay cacheable (a page cache is added for them).
"""
from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orders.links import guest_order_token, thread_link
from orders.models import Order, SupportThread
from orders.support import thread_open
from shop.models import Address
from tests.factories import OrderFactory, UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P26")]

NAME = "Zenobia Cachewright"
LINE1 = "31 Larkspur Mews"


def directives(response) -> set[str]:
    return {d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def assert_no_store(response, where: str) -> None:
    got = directives(response)
    assert {"no-store", "private"} <= got, f"{where}: Cache-Control {response.get('Cache-Control')!r}"


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """Every URL pattern of the site: (route, view name, the pattern)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ":".join(filter(None, [namespace, p.name])) if p.name else None, p


def url_for(name: str | None, pattern: URLPattern, values: dict) -> str:
    if name is None:  # the product images route
        return "/media/products/none.png"
    names = list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)
    return reverse(name, kwargs={n: values.get(n, "1") for n in names})


@pytest.fixture
def member(db):
    user = UserFactory(name=NAME, email="zenobia@cache.example")
    address = Address.objects.create(user=user, name=NAME, line1=LINE1, city="Quillsbury", country="GB",
                                     is_default=True)
    order = OrderFactory(user=user, email=user.email, shipping_name=NAME, shipping_line1=LINE1,
                         status=Order.Status.PAID)
    thread = thread_open(subject="My lamp", body="It flickers at night.", user=user)
    client = Client()
    client.force_login(user)
    return client, {"reference": order.reference, "pk": address.pk, "token": "x", "version": "1", "signed": "x",
                    "slug": "x", "key": "x", "uidb36": "1"}, thread


def test_every_page_of_the_site_is_no_store_for_a_signed_in_visitor(member):
    client, values, thread = member
    seen = {}
    for route, name, pattern in walk():
        if route.startswith(settings.ADMIN_URL):
            continue
        kw = {**values, "pk": thread.pk} if name == "orders:thread" else values
        url = url_for(name, pattern, kw)
        response = client.get(url)
        assert_no_store(response, f"GET {url} ({name})")
        seen[name] = response
    assert len(seen) > 60  # really the whole site, not a sample
    # the sweep looked at real pages with the member's data on them
    for name in ("account:center", "account:profile", "account:addresses", "orders:detail", "privacy:dashboard"):
        assert seen[name].status_code == 200 and NAME in seen[name].content.decode(), name
    assert "It flickers at night." in client.get(reverse("orders:thread", args=[thread.pk])).content.decode()
    for name in ("account_email", "usersessions_list"):  # allauth's own pages
        assert seen[name].status_code == 200, name
    # a catalogue page greets a signed-in member with their own account links and CSRF token
    home = seen["shop:home"]
    assert home.status_code == 200 and "Sign out" in home.content.decode()


def test_every_admin_page_is_no_store_for_staff(db):
    client = Client()
    client.force_login(staff_user("Customer service"))
    order = OrderFactory(shipping_name=NAME, status=Order.Status.PAID)
    count = 0
    for route, name, pattern in walk():
        if not route.startswith(settings.ADMIN_URL) or name is None:
            continue
        url = url_for(name, pattern, {"object_id": str(order.pk), "pk": str(order.pk), "app_label": "orders"})
        assert_no_store(client.get(url), f"GET {url} ({name})")
        count += 1
    assert count > 100
    change = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert change.status_code == 200 and "Personal data" in change.content.decode()


def test_the_pages_that_show_a_guest_their_data_are_no_store(shopper, product):
    anon = shopper.client
    shopper.add(product)
    refused = shopper.checkout(name=NAME, city="")  # a form answer echoes what was typed
    assert refused.status_code == 400 and NAME in refused.content.decode()
    assert_no_store(refused, "checkout with an error")
    reference = shopper.buy(product, name=NAME, line1=LINE1)
    order = Order.objects.get(reference=reference)
    pages = {
        "the thank-you page": reverse("orders:thanks", args=[reference]),
        "the emailed order link": reverse("orders:guest_detail", args=[guest_order_token(order)]),
    }
    for what, url in pages.items():
        response = anon.get(url)
        assert response.status_code == 200 and NAME in response.content.decode() and LINE1 in response.content.decode()
        assert_no_store(response, what)
    thread = thread_open(subject="Scratched", body="The lamp arrived scratched.", email="guest@example.com")
    conversation = anon.get(thread_link(thread).removeprefix(settings.SITE_URL))
    assert conversation.status_code == 200 and "The lamp arrived scratched." in conversation.content.decode()
    assert_no_store(conversation, "the emailed conversation link")
    assert SupportThread.objects.filter(pk=thread.pk, user__isnull=True).exists()
    for url in (reverse("privacy:guest_export"), reverse("account_login"), reverse("account:center"),
                reverse("orders:checkout"), reverse("shop:cart")):
        assert_no_store(anon.get(url), url)


def test_anonymous_catalogue_pages_stay_cacheable(client, product):
    for url in (reverse("shop:home"), reverse("shop:product_list"), product.get_absolute_url(),
                reverse("privacy:policy")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not {"no-store", "private", "no-cache"} & directives(response), (url, response.get("Cache-Control"))
        assert "Expires" not in response, url
