from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from shop.models import Category, Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [p.name for p in response.context["page"].object_list]


def test_product_list_is_paginated_and_sorted_by_name(client, catalogue, settings):
    settings.SHOP_PAGE_SIZE = 12
    first = client.get(reverse("shop:product_list"))
    last = client.get(reverse("shop:product_list"), {"page": 3})
    assert names(first) == [f"Item {i:03d}" for i in range(12)]
    assert names(last) == [f"Item {i:03d}" for i in range(24, 30)]
    assert "Page 3 of 3" in last.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "999", "abc", "1e9", "%00"])
def test_any_page_number_gives_a_page_not_an_error(client, catalogue, page):
    response = client.get(reverse("shop:product_list"), {"page": page})
    assert response.status_code == 200
    assert response.context["page"].object_list


def test_category_filter_shows_only_that_category(client, catalogue):
    response = client.get(reverse("shop:product_list"), {"category": "garden"})
    shown = response.context["page"].object_list
    assert len(shown) == 10
    assert {p.category.slug for p in shown} == {"garden"}


def test_unknown_category_says_so_and_shows_everything(client, catalogue):
    response = client.get(reverse("shop:product_list"), {"category": "no-such-thing"})
    assert "That category does not exist" in response.content.decode()
    assert response.context["page"].paginator.count == 30


@pytest.mark.parametrize("sort,first", [("price", "Item 000"), ("-price", "Item 029"), ("newest", "Item 029")])
def test_sort_orders(client, catalogue, sort, first):
    assert names(client.get(reverse("shop:product_list"), {"sort": sort}))[0] == first


def test_unknown_sort_falls_back_to_name(client, catalogue):
    response = client.get(reverse("shop:product_list"), {"sort": "price; DROP TABLE shop_product"})
    assert response.status_code == 200
    assert names(response)[0] == "Item 000"
    assert Product.objects.count() == 30


def test_search_matches_name_and_description_case_insensitively(client, db):
    lamp = ProductFactory(name="Brass Lamp", description="warm light")
    mug = ProductFactory(name="Camping Mug", description="Enamel, holds tea and LIGHT soup")
    ProductFactory(name="Hammer", description="heavy")
    assert set(client.get(reverse("shop:product_list"), {"q": "light"}).context["page"].object_list) == {lamp, mug}
    assert list(client.get(reverse("shop:product_list"), {"q": "brass LAMP"}).context["page"].object_list) == [lamp]
    empty = client.get(reverse("shop:product_list"), {"q": "unicorn"})
    assert "No products match" in empty.content.decode()


def test_hostile_search_is_escaped_not_executed(client, catalogue):
    response = client.get(reverse("shop:product_list"), {"q": "<script>alert(1)</script>' OR 1=1 --"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert response.context["page"].paginator.count == 0


def test_inactive_products_are_hidden_everywhere(client, db):
    hidden = ProductFactory(name="Withdrawn Kettle", is_active=False)
    assert hidden not in client.get(reverse("shop:product_list"), {"q": "Kettle"}).context["page"].object_list
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_product_page_shows_price_in_usd_stock_and_free_shipping(client, product):
    body = client.get(product.get_absolute_url()).content.decode()
    assert "Walnut Desk Lamp" in body
    assert "$49.50" in body and "USD" in body
    assert "Only 5 left" in body
    assert "Free worldwide shipping" in body


def test_out_of_stock_product_offers_no_add_to_cart(client, db):
    product = ProductFactory(stock=0)
    body = client.get(product.get_absolute_url()).content.decode()
    assert "Out of stock" in body
    assert "Add to cart" not in body


def test_unknown_product_is_404(client, db):
    assert client.get(reverse("shop:product_detail", args=["nothing-here"])).status_code == 404


@pytest.mark.parametrize("page_size", [5, 20, 60])
def test_product_list_runs_a_constant_number_of_queries(client, db, settings, page_size, django_assert_max_num_queries):
    settings.SHOP_PAGE_SIZE = page_size
    categories = [CategoryFactory(name=f"Cat {i}") for i in range(6)]
    for i in range(70):
        ProductFactory(category=categories[i % 6], name=f"Thing {i}")
    with django_assert_max_num_queries(5):  # count, page, nav categories, policy notice, (session)
        response = client.get(reverse("shop:product_list"), {"category": "cat-1", "sort": "price"})
    assert response.status_code == 200
    with django_assert_max_num_queries(5):
        client.get(reverse("shop:product_list"))


def test_product_page_runs_a_constant_number_of_queries(client, product, django_assert_max_num_queries):
    for i in range(20):
        CategoryFactory(name=f"Extra {i}")
    with django_assert_max_num_queries(4):  # product, nav categories, policy notice, (session)
        assert client.get(product.get_absolute_url()).status_code == 200


def test_seed_demo_builds_a_catalogue_once_with_generated_images(db, settings, tmp_path):
    call_command("seed_demo", products=30, categories=10, verbosity=0)
    assert Category.objects.count() == 10
    assert Product.objects.count() == 30
    product = Product.objects.first()
    assert product.image.name.endswith(".png")
    assert (settings.MEDIA_ROOT / product.image.name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Product.objects.filter(price__lte=Decimal("0")).count() == 0
    call_command("seed_demo", products=30, categories=10, verbosity=0)
    assert Product.objects.count() == 30


def test_default_demo_catalogue_is_big_enough(db):
    call_command("seed_demo", no_images=True, verbosity=0)
    assert Product.objects.count() >= 200
    assert Category.objects.count() >= 10


def test_product_images_are_served_by_the_site(client, db, settings):
    call_command("seed_demo", products=1, categories=1, no_staff=True, verbosity=0)
    product = Product.objects.get()
    response = client.get(product.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
