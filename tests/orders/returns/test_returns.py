from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders import returns
from orders.models import Order, OrderLine, Payment, Refund, ReturnRequest
from shop.models import Product
from tests.factories import OrderFactory, ProductFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(user):
    lamp, mug = ProductFactory(name="Desk Lamp", stock=2), ProductFactory(name="Camping Mug", stock=0)
    order = OrderFactory(user=user, status=Order.Status.DELIVERED, paid_at=timezone.now(),
                         delivered_at=timezone.now(), subtotal=Decimal("70.00"), total=Decimal("70.00"))
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.create(order=order, product=lamp, product_name="Desk Lamp", unit_price=Decimal("25.00"),
                             quantity=2, line_total=Decimal("50.00"))
    OrderLine.objects.create(order=order, product=mug, product_name="Camping Mug", unit_price=Decimal("20.00"),
                             quantity=1, line_total=Decimal("20.00"))
    Payment.objects.create(order=order, gateway="offline", intent_id="offline_x", amount=order.total,
                           status="succeeded")
    return order


def lines(order):
    return {l.product_name: l for l in order.lines.all()}


@pytest.mark.promise("P7")
def test_a_customer_returns_part_of_an_order_and_is_refunded_with_emails_at_each_step(
        signed_in, delivered, django_capture_on_commit_callbacks):
    lamp = lines(delivered)["Desk Lamp"]
    page = signed_in.get(delivered.get_absolute_url()).content.decode()
    assert "Return items" in page
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("orders:return", args=[delivered.reference]),
                       {f"line_{lamp.pk}": "1", "reason": "Too bright"})
    req = ReturnRequest.objects.get()
    assert req.status == "requested" and req.amount == Decimal("25.00")
    staff = signed_in.__class__()
    staff.force_login(staff_user("Customer service"))
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:orders_return_step", args=[req.pk, "approve"]))
        staff.post(reverse("admin:orders_return_step", args=[req.pk, "receive"]))
        staff.post(reverse("admin:orders_return_step", args=[req.pk, "refund"]))
    req.refresh_from_db()
    assert req.status == "refunded"
    assert Product.objects.get(name="Desk Lamp").stock == 3  # restocked
    refund = Refund.objects.get()
    assert (refund.amount, refund.currency, refund.status) == (Decimal("25.00"), "USD", "succeeded")
    order = Order.objects.get(pk=delivered.pk)
    assert order.total == Decimal("70.00") and order.status == "delivered"  # a partial refund keeps the order
    assert returns.refunded_total(order) == Decimal("25.00")
    subjects = [m.subject for m in mail.outbox]
    ref = delivered.reference
    assert subjects == [f"We received your return request for order {ref}", f"Your return for order {ref} is approved",
                        f"We received your returned items (order {ref})", f"Your refund for order {ref} is on its way"]
    assert "$25.00" in mail.outbox[-1].body
    page = signed_in.get(delivered.get_absolute_url()).content.decode()
    assert "Refunded so far: $25.00" in page, page[page.find("<main"):page.find("</main>")]


@pytest.mark.promise("P7")
def test_a_refund_replayed_twice_refunds_once(delivered):
    req = returns.return_request_create(order=delivered, quantities={lines(delivered)["Camping Mug"].pk: 1},
                                        reason="Broken")
    returns.return_approve(request=req, by=None)
    returns.return_receive(request=req, by=None)
    first = returns.refund_issue(request=req)
    second = returns.refund_issue(request=req)
    assert first.pk == second.pk and Refund.objects.count() == 1
    assert returns.refunded_total(delivered) == Decimal("20.00")


@pytest.mark.promise("P7")
def test_a_stripe_refund_replayed_reaches_stripe_once(client, shopper, product, stripe_fake, user,
                                                      django_capture_on_commit_callbacks):
    from tests.fakes.stripe_server import confirm_intent

    client.force_login(user)
    shopper.add(product, 2)
    reference = shopper.checkout()["Location"].split("/")[2]
    client.get(reverse("orders:pay", args=[reference]))
    order = Order.objects.get()
    confirm_intent(stripe_fake.client(), order.payments.get().intent_id)
    client.get(reverse("orders:payment_return", args=[reference]))
    Order.objects.filter(pk=order.pk).update(status="delivered", delivered_at=timezone.now())
    order.refresh_from_db()
    req = returns.return_request_create(order=order, quantities={order.lines.get().pk: 2}, reason="Wrong colour")
    returns.return_approve(request=req, by=None)
    returns.return_receive(request=req, by=None)
    refund = returns.refund_issue(request=req)
    Refund.objects.filter(pk=refund.pk).update(status="pending")  # as if we crashed after Stripe answered
    returns.refund_issue(request=req)
    refunds = stripe_fake.client().v1.refunds.list(params={"payment_intent": order.payments.get().intent_id})
    assert len(refunds.data) == 1 and refunds.data[0].amount == 9900
    assert Order.objects.get(pk=order.pk).status == "refunded"  # all of it was refunded


def test_cannot_return_more_than_bought_or_after_the_window(signed_in, delivered):
    lamp = lines(delivered)["Desk Lamp"]
    response = signed_in.post(reverse("orders:return", args=[delivered.reference]),
                              {f"line_{lamp.pk}": "5", "reason": "x"})
    assert response.status_code == 400 and not ReturnRequest.objects.exists()
    response = signed_in.post(reverse("orders:return", args=[delivered.reference]),
                              {f"line_{lamp.pk}": "0", "reason": "nothing"})
    assert "Choose at least one item" in response.content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        signed_in.force_login(delivered.user)  # the session of 91 days ago has expired
        page = signed_in.get(reverse("orders:return", args=[delivered.reference])).content.decode()
        assert "can no longer be returned" in page
        assert "Return items" not in signed_in.get(delivered.get_absolute_url()).content.decode()


def test_another_customer_cannot_return_my_order(client, delivered):
    client.force_login(UserFactory())
    assert client.get(reverse("orders:return", args=[delivered.reference])).status_code == 404


def test_staff_refuse_with_a_reason_and_the_customer_is_told(delivered, django_capture_on_commit_callbacks):
    req = returns.return_request_create(order=delivered, quantities={lines(delivered)["Desk Lamp"].pk: 1},
                                        reason="Changed my mind after 2 years")
    with pytest.raises(returns.ReturnError):
        returns.return_refuse(request=req, by=None, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        returns.return_refuse(request=req, by=None, reason="The lamp was used and damaged.")
    assert "The lamp was used and damaged." in mail.outbox[-1].body
    with pytest.raises(returns.ReturnError):
        returns.return_receive(request=req, by=None)


@pytest.mark.promise("P7")
def test_late_refunds_are_highlighted_for_staff(client, delivered):
    req = returns.return_request_create(order=delivered, quantities={lines(delivered)["Desk Lamp"].pk: 1}, reason="x")
    returns.return_approve(request=req, by=None)
    returns.return_receive(request=req, by=None)
    client.force_login(staff_user("Customer service"))
    assert "⚠ LATE" not in client.get(reverse("admin:orders_returnrequest_changelist")).content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert "⚠ LATE" in client.get(reverse("admin:orders_returnrequest_changelist")).content.decode()


def test_fulfilment_cannot_decide_returns(client, delivered):
    req = returns.return_request_create(order=delivered, quantities={lines(delivered)["Desk Lamp"].pk: 1}, reason="x")
    client.force_login(staff_user("Fulfilment"))
    assert client.post(reverse("admin:orders_return_step", args=[req.pk, "approve"])).status_code == 403
    assert ReturnRequest.objects.get().status == "requested"
