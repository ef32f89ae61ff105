import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order
from tests.factories import OrderFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = staff_user(is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def paid_order(db):
    order = OrderFactory(status=Order.Status.PAID)
    return order


@pytest.mark.promise("P6")
def test_staff_ship_and_deliver_and_the_customer_hears_of_each(admin_client, paid_order, django_capture_on_commit_callbacks):
    ship_url = reverse("admin:orders_order_ship", args=[paid_order.pk])
    assert "Mark shipped" in admin_client.get(reverse("admin:orders_order_change", args=[paid_order.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(ship_url, {"carrier": "Parcelways", "tracking_number": "PW123456789"})
    order = Order.objects.get(pk=paid_order.pk)
    assert (order.status, order.carrier, order.tracking_number) == ("shipped", "Parcelways", "PW123456789")
    assert order.status_changes.get(to_status="shipped").by == admin_client.staff
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Your order {order.reference} is on its way"
    assert "Tracking number: PW123456789" in mail.outbox[0].body
    assert mail.outbox[0].to == [paid_order.email]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:orders_order_deliver", args=[order.pk]))
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert mail.outbox[-1].subject == f"Your order {order.reference} was delivered"


def test_an_unpaid_order_cannot_be_shipped(admin_client, db):
    order = OrderFactory(status=Order.Status.PENDING_PAYMENT)
    response = admin_client.post(reverse("admin:orders_order_ship", args=[order.pk]),
                                 {"carrier": "Parcelways", "tracking_number": "X1"}, follow=True)
    assert "cannot become shipped" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert mail.outbox == []


def test_shipping_needs_a_carrier_and_tracking_number(admin_client, paid_order):
    response = admin_client.post(reverse("admin:orders_order_ship", args=[paid_order.pk]), {"carrier": "", "tracking_number": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert Order.objects.get(pk=paid_order.pk).status == "paid"


def test_orders_cannot_be_added_or_deleted_through_the_admin(admin_client, paid_order):
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_delete", args=[paid_order.pk])).status_code == 403


def test_a_customer_cannot_reach_the_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:orders_order_ship", args=[1]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_staff_manage_products_and_stock(admin_client, product):
    response = admin_client.get(reverse("admin:shop_product_changelist"))
    assert "Walnut Desk Lamp" in response.content.decode()
