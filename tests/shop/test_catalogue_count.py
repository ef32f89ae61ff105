"""The product list's count is kept under the catalogue stamp (issue 14: list and search pages
flat from 1,000 to 100,000 products): counting every product on sale on each request grows with
the catalogue. What must hold: the count a person reads is always the current one, and a kept
count is never served for another selection (category, search) or after any catalogue write."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.models import CatalogueStamp, Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST = reverse("shop:product_list")
COUNT = re.compile(r'<p class="count">(\d+) products?</p>')


def shown(client: Client, url: str) -> tuple[int, list[str]]:
    """(the count the page prints, the SQL it ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return int(COUNT.search(response.content.decode()).group(1)), [q["sql"] for q in queries]


def counted(sql: list[str]) -> bool:
    return any("COUNT(" in q.upper() and "shop_product" in q for q in sql)


@pytest.fixture
def customer(user) -> Client:
    client = Client()
    client.force_login(user)  # signed in: the page cache steps aside, so the view runs each time
    return client


def test_the_count_is_read_once_then_kept_until_the_catalogue_changes(catalogue, customer):
    number, sql = shown(customer, LIST)
    assert number == 30 and counted(sql)
    number, sql = shown(customer, LIST)
    assert number == 30 and not counted(sql)  # kept: no count of the whole catalogue

    ProductFactory(category=catalogue[0].category, name="Item new")
    assert shown(customer, LIST)[0] == 31  # the very next request
    Product.objects.filter(pk=catalogue[1].pk).update(is_active=False)  # a write that skips save()
    assert shown(customer, LIST)[0] == 30
    Product.objects.filter(pk__in=[p.pk for p in catalogue[:5]]).delete()
    assert shown(customer, LIST)[0] == 26


def test_a_kept_count_belongs_to_its_own_category_and_search(catalogue, customer):
    kitchen = catalogue[0].category
    assert shown(customer, LIST)[0] == 30
    assert shown(customer, f"{LIST}?category={kitchen.slug}")[0] == 10
    assert shown(customer, f"{LIST}?q=Item+007")[0] == 1
    assert shown(customer, f"{LIST}?q=Item")[0] == 30
    assert shown(customer, f"{LIST}?category={kitchen.slug}&q=Item")[0] == 10
    # and read back from the cache, each its own
    assert shown(customer, f"{LIST}?q=Item+007")[0] == 1
    assert shown(customer, f"{LIST}?category={kitchen.slug}")[0] == 10
    assert shown(customer, LIST)[0] == 30


def test_a_category_move_changes_both_counts_at_once(catalogue, customer):
    kitchen, garden = catalogue[0].category, catalogue[1].category
    assert shown(customer, f"{LIST}?category={kitchen.slug}")[0] == 10
    assert shown(customer, f"{LIST}?category={garden.slug}")[0] == 10
    Product.objects.filter(pk=catalogue[0].pk).update(category=garden)
    assert shown(customer, f"{LIST}?category={kitchen.slug}")[0] == 9
    assert shown(customer, f"{LIST}?category={garden.slug}")[0] == 11


def test_pages_past_the_end_follow_the_current_count(customer, settings):
    settings.SHOP_PAGE_SIZE = 10
    category = CategoryFactory(name="Lamps")
    products = [ProductFactory(category=category, name=f"Lamp {i:02d}") for i in range(21)]
    response = customer.get(f"{LIST}?page=3")
    assert "Page 3 of 3" in response.content.decode()
    Product.objects.filter(pk=products[-1].pk).update(is_active=False)
    html = customer.get(f"{LIST}?page=3").content.decode()
    assert "Page 2 of 2" in html and "Page 3" not in html  # the last page now, not a stale third


def test_without_the_stamp_row_the_count_is_read_every_time(catalogue, customer):
    CatalogueStamp.objects.all().delete()
    assert counted(shown(customer, LIST)[1])
    ProductFactory(category=catalogue[0].category, name="Item new")
    number, sql = shown(customer, LIST)
    assert number == 31 and counted(sql)
