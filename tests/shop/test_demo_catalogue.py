"""The demo shop looks like a shop: believable products and prices, pictures drawn locally,
a logo and favicon, in-stock products on the home page, the current category marked, cart thumbnails."""
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from shop.demo import CATALOGUE, demo_products, product_png
from shop.models import Category, Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_default_catalogue_has_distinct_believable_names_and_shop_prices():
    products = demo_products(products=240, categories=12)
    names = [name for _, name, _, _ in products]
    assert len(set(names)) == 240
    assert not any(re.search(r"No\. \d|Everyday|Deluxe \w+ \d", n) for n in names)
    for _, _, price, description in products:
        assert isinstance(price, Decimal) and price == price.quantize(Decimal("0.01"))
        assert str(price)[-3:] in {".00", ".50", ".95"}
        assert description.endswith(".")
    prices = {name: price for _, name, price, _ in products}
    assert prices["Chef's knife, 20 cm"] >= Decimal("50")  # not a chef's knife at $5.27
    assert prices["Cordless drill, standard"] > prices["Tape measure, 5 m"]
    assert all(Decimal("4") <= p <= Decimal("200") for p in prices.values())


def test_each_product_sits_in_its_own_category():
    for ci, name, _, _ in demo_products(products=240, categories=12):
        listed = {item[0] for item in CATALOGUE[ci][2]}
        assert name.split(",")[0] in listed


def test_generated_picture_is_a_png_with_the_category_colour():
    data = product_png("Cast-iron skillet, 26 cm", "Kitchen", "#9c4a2f", size=200, seed=1)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (200, 200)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16)) > 50  # a picture, not a flat rectangle


def test_seed_demo_stores_decimal_prices_and_images(settings):
    call_command("seed_demo", products=24, categories=12, verbosity=0, no_staff=True)
    assert Category.objects.count() == 12 and Product.objects.count() == 24
    knife = Product.objects.get(name="Chef's knife, 20 cm")
    assert knife.price == Decimal("89.00") and knife.category.name == "Kitchen"
    assert knife.image.name.endswith(".png")


def test_favicon_is_linked_and_served_where_browsers_look(client):
    page = client.get(reverse("shop:home")).content.decode()
    assert 'rel="icon"' in page and "img/favicon.ico" in page and "img/logo.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.ico")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_home_features_only_products_in_stock(client):
    ProductFactory(name="Sold-out teapot", stock=0)
    ProductFactory(name="Stocked teapot", stock=4)
    page = client.get(reverse("shop:home")).content.decode()
    assert "Stocked teapot" in page and "Sold-out teapot" not in page


def test_current_category_is_marked_in_the_navigation(client):
    kitchen, garden = CategoryFactory(name="Kitchen", slug="kitchen"), CategoryFactory(name="Garden", slug="garden")
    pan = ProductFactory(category=kitchen, name="Pan")
    page = client.get(reverse("shop:product_list"), {"category": "kitchen"}).content.decode()
    nav = page[page.index('aria-label="Categories"'):page.index("</nav>", page.index('aria-label="Categories"'))]
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', nav) == ["Kitchen"]
    page = client.get(pan.get_absolute_url()).content.decode()
    nav = page[page.index('aria-label="Categories"'):page.index("</nav>", page.index('aria-label="Categories"'))]
    assert re.findall(r'<a [^>]*aria-current="true"[^>]*>([^<]+)</a>', nav) == ["Kitchen"]
    page = client.get(reverse("shop:product_list")).content.decode()
    nav = page[page.index('aria-label="Categories"'):page.index("</nav>", page.index('aria-label="Categories"'))]
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', nav) == ["All products"]
    assert garden.name in nav


def test_cart_shows_a_thumbnail_of_each_product(client, shopper):
    call_command("seed_demo", products=2, categories=2, verbosity=0, no_staff=True)
    product = Product.objects.first()
    shopper.add(product)
    page = client.get(reverse("shop:cart")).content.decode()
    assert f'<img src="{product.image.url}" alt="" width="56" height="56">' in page
