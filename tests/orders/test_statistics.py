import pytest
from django.urls import reverse

from orders.models import Order, OrderLine
from privacy.models import DailyPageViews
from tests.factories import OrderFactory, ProductFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P9")
def test_staff_see_visits_and_sales_as_charts_without_any_personal_data(client, product):
    from django.utils import timezone

    visitor = client
    visitor.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on"})
    for _ in range(3):
        visitor.get(product.get_absolute_url())
    order = OrderFactory(email="secret.buyer@example.com", shipping_name="Secret Buyer", status=Order.Status.PAID,
                         paid_at=timezone.now())
    OrderLine.objects.filter(order=order).update(product_name="Walnut Desk Lamp", quantity=2)
    ProductFactory(name="Nearly Gone Vase", stock=2)
    client.force_login(staff_user("Catalogue"))
    page = client.get(reverse("admin:orders_statistics"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "Revenue per day" in body and "Page views per day" in body
    assert "Walnut Desk Lamp" in body and "Nearly Gone Vase" in body
    assert page.context["top_viewed"] == [{"name": "Walnut Desk Lamp", "views": 3}]
    assert sum(r["views"] for r in page.context["views"]) == DailyPageViews.objects.get().views == 3
    for secret in ("secret.buyer@example.com", "Secret Buyer"):
        assert secret not in body


def test_fulfilment_cannot_see_statistics(client, db):
    client.force_login(staff_user("Fulfilment"))
    assert client.get(reverse("admin:orders_statistics")).status_code == 403
