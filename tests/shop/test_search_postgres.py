"""Full-text product search on PostgreSQL (migration shop 0006 and selectors.product_list).

On SQLite these are skipped: .ci/run runs the suite on PostgreSQL, where they run. The SQLite
fallback keeps its own tests in test_catalogue.py."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from shop.models import Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("postgresql_only")]


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: .ci/run runs it")


def found(client, q, **extra) -> list[str]:
    cache.clear()  # the search itself, not a page an earlier request left in the page cache
    response = client.get(reverse("shop:product_list"), {"q": q, **extra})
    assert response.status_code == 200
    return [p.name for p in response.context["page"].object_list]


def test_english_stems_match_and_the_last_word_is_a_prefix(client):
    ProductFactory(name="Running Shoes", description="light")
    ProductFactory(name="Brass Lamp", description="warm light")
    ProductFactory(name="Hammer", description="heavy")
    assert found(client, "run shoe") == ["Running Shoes"]      # stems: runs/running, shoes/shoe
    assert found(client, "lamps") == ["Brass Lamp"]
    assert found(client, "bra") == ["Brass Lamp"]               # typing: the last word is a prefix
    assert found(client, "unicorn") == []
    assert found(client, "ham heavy") == []                     # only the last word is a prefix


def test_a_name_match_ranks_above_a_description_match(client):
    ProductFactory(name="Aaa Mug", description="holds a candle holder")
    ProductFactory(name="Zzz Candle", description="wax")
    assert found(client, "candle") == ["Zzz Candle", "Aaa Mug"]
    assert found(client, "candle", sort="price") != [] and set(found(client, "candle", sort="-price")) == {
        "Zzz Candle", "Aaa Mug"}


def test_the_vector_is_kept_current_by_save_update_and_bulk_create(client):
    product = ProductFactory(name="Old Teapot", description="")
    product.name = "Copper Kettle"
    product.save()
    assert found(client, "kettle") == ["Copper Kettle"] and found(client, "teapot") == []
    Product.objects.filter(pk=product.pk).update(description="whistles")
    assert found(client, "whistle") == ["Copper Kettle"]
    category = CategoryFactory()
    Product.objects.bulk_create([Product(category=category, name=f"Bulk Vase {i}", slug=f"bulk-vase-{i}",
                                         price=5) for i in range(3)])
    assert len(found(client, "vase")) == 3


def test_operators_and_hostile_input_are_plain_text(client):
    ProductFactory(name="Brass Lamp")
    for q in ["lamp & !brass", "'):* | (", "<script>alert(1)</script>' OR 1=1 --", "!!!", "lamp:*A"]:
        response = client.get(reverse("shop:product_list"), {"q": q})
        assert response.status_code == 200
    assert found(client, "!!!") == []
    assert found(client, "lamp & brass") == ["Brass Lamp"]


def test_search_uses_the_gin_index_and_a_constant_number_of_queries(client, settings, django_assert_max_num_queries):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'shop_product_search_vector_gin'")
        assert "gin (search_vector)" in cursor.fetchone()[0]
    settings.SHOP_PAGE_SIZE = 10
    for i in range(40):
        ProductFactory(name=f"Garden Chair {i}")
    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:product_list"), {"q": "chair", "page": 2})
    assert response.context["page"].paginator.count == 40
    assert len(response.context["page"].object_list) == 10
