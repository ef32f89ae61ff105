"""An order whose shipping details were erased while it was open (a guardian's erasure request for
a minor goes ahead with orders open): staff see what can still happen to it, are not offered
"Mark shipped", and refund it in full, once, which closes it."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.models import Order, Payment, Refund
from privacy.models import PrivacyRequest
from shop.models import Product
from tests.factories import OrderFactory, ProductFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def change_page(client, order) -> str:
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def erased_paid_order(client, django_capture_on_commit_callbacks):
    """A minor's paid, unshipped order, erased on their guardian's request by the privacy officer."""
    minor = UserFactory(email="kid@example.com")
    lamp = ProductFactory(name="Walnut Desk Lamp", stock=3)
    order = OrderFactory(user=minor, email=minor.email, status=Order.Status.PAID)
    order.lines.update(product=lamp, quantity=2)
    Payment.objects.create(order=order, gateway="offline", intent_id="pi_kid", amount=order.total,
                           amount_received=order.total, status=Payment.Status.SUCCEEDED)
    client.force_login(staff_user("Privacy officer"))
    client.post(reverse("admin:privacy_privacyrequest_add"), {"kind": "guardian", "verified_by": "guardian_documents"})
    case = PrivacyRequest.objects.get(kind="guardian")
    form = client.get(reverse("admin:privacy_request_erase", args=[case.pk])).content.decode()
    assert "A guardian's request goes ahead even while the minor's orders are open." in form
    assert "refunds it in full from the order's page" in form
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_erase", args=[case.pk]), {"email": minor.email, "confirm": "on"})
    order.refresh_from_db()
    assert order.anonymised_at is not None and order.shipping_line1 == "" and order.status == Order.Status.PAID
    case.refresh_from_db()
    assert case.status == PrivacyRequest.Status.COMPLETED  # closed, not left "Scheduled" with "Erase now"
    return order


@pytest.mark.promise("P13")
def test_staff_see_what_can_still_happen_and_are_not_offered_to_ship_it(client, erased_paid_order):
    order = erased_paid_order
    when = f"{order.anonymised_at.day} {order.anonymised_at:%B %Y}"
    client.force_login(staff_user("Customer service"))
    page = change_page(client, order)
    assert (f"Shipping details were erased on {when}, while the order was open: it can be refunded in full "
            "(the items go back into stock), not shipped.") in page
    assert "in full and close the order" in page
    assert "Mark shipped" not in page

    shipper = staff_user("Fulfilment")
    client.force_login(shipper)
    queue = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert order.reference not in queue  # nothing to ship to: not in the fulfilment queue
    response = client.post(reverse("admin:orders_order_ship", args=[order.pk]),
                           {"carrier": "Parcelways", "tracking_number": "PW-1"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.carrier == ""


def test_an_order_with_its_details_is_shipped_as_before(client):
    order = OrderFactory(status=Order.Status.PAID)
    client.force_login(staff_user("Customer service"))
    page = change_page(client, order)
    assert "Shipping details were erased" not in page and "in full and close the order" not in page
    client.force_login(staff_user("Fulfilment"))
    assert "Mark shipped" in change_page(client, order)


def test_the_ship_page_refuses_an_erased_order_for_staff_who_see_all_orders(client, erased_paid_order):
    manager = staff_user("Customer service")
    manager.user_permissions.add(*Permission.objects.filter(codename="ship_order"))
    client.force_login(manager)
    response = client.post(reverse("admin:orders_order_ship", args=[erased_paid_order.pk]),
                           {"carrier": "Parcelways", "tracking_number": "PW-1"}, follow=True)
    assert "cannot be shipped: its shipping details were erased" in response.content.decode()
    erased_paid_order.refresh_from_db()
    assert erased_paid_order.status == Order.Status.PAID


@pytest.mark.promise("P7")
def test_refunding_in_full_gives_the_money_back_once_restocks_and_closes_it(client, erased_paid_order):
    order = erased_paid_order
    client.force_login(staff_user("Customer service"))
    url = reverse("admin:orders_order_refund_in_full", args=[order.pk])
    response = client.post(url, follow=True)
    assert "refunded to the card; the order is closed as refunded" in response.content.decode()
    client.post(url)  # a double click moves no more money
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.status, refund.idempotency_key) == (order.total, "succeeded", f"order-{order.pk}")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert Product.objects.get(name="Walnut Desk Lamp").stock == 5
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200 and "Refunded in full: shipping details erased before shipment" in \
        response.content.decode()
    assert "in full and close the order" not in response.content.decode()


def test_an_order_with_its_details_cannot_be_refunded_this_way(client):
    order = OrderFactory(status=Order.Status.PAID)
    Payment.objects.create(order=order, gateway="offline", intent_id="pi_x", amount=order.total,
                           status=Payment.Status.SUCCEEDED)
    client.force_login(staff_user("Customer service"))
    response = client.post(reverse("admin:orders_order_refund_in_full", args=[order.pk]), follow=True)
    assert "Only a paid order whose shipping details were erased" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not Refund.objects.exists()


def test_only_staff_who_handle_returns_may_refund(client, erased_paid_order):
    client.force_login(staff_user("Privacy officer"))
    assert "in full and close the order" not in change_page(client, erased_paid_order)
    response = client.post(reverse("admin:orders_order_refund_in_full", args=[erased_paid_order.pk]))
    assert response.status_code == 403 and not Refund.objects.exists()
