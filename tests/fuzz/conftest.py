"""Fixtures of the fuzz tests. They are built once per test function (not per hypothesis
example); every example then runs inside `hostile.isolated()` and is rolled back."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Order, OrderLine, Payment
from tests.factories import CategoryFactory, OrderFactory, ProductFactory, UserFactory, staff_user


@pytest.fixture
def fuzz_catalogue(db):
    """Two categories, a few products (one out of stock, one inactive)."""
    kitchen, garden = CategoryFactory(name="Kitchen"), CategoryFactory(name="Garden")
    products = [ProductFactory(category=kitchen if i % 2 else garden, name=f"Fuzz item {i}", price=f"{10 + i}.50",
                               stock=[5, 1, 0, 120, 3, 7][i]) for i in range(6)]
    products[4].is_active = False
    products[4].save(update_fields=["is_active"])
    return products


@pytest.fixture
def anon(db):
    return Client()


@pytest.fixture
def member(db):
    """A signed-in customer and their client."""
    user = UserFactory(name="Ada Member", phone="+44 20 7946 0000")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def staff_client(role: str) -> Client:
    client = Client()
    client.force_login(staff_user(role))
    return client


@pytest.fixture
def customer_service(db):
    return staff_client("Customer service")


@pytest.fixture
def privacy_officer(db):
    return staff_client("Privacy officer")


@pytest.fixture
def fulfilment(db):
    return staff_client("Fulfilment")


@pytest.fixture
def delivered_order(member):
    """A delivered order of `member` with two lines (2 lamps, 1 mug), inside the return window."""
    lamp, mug = ProductFactory(name="Fuzz Lamp", stock=2), ProductFactory(name="Fuzz Mug", stock=0)
    order = OrderFactory(user=member.user, email=member.user.email, status=Order.Status.DELIVERED,
                         paid_at=timezone.now(), delivered_at=timezone.now(), subtotal=Decimal("70.00"),
                         total=Decimal("70.00"))
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.create(order=order, product=lamp, product_name="Fuzz Lamp", unit_price=Decimal("25.00"),
                             quantity=2, line_total=Decimal("50.00"))
    OrderLine.objects.create(order=order, product=mug, product_name="Fuzz Mug", unit_price=Decimal("20.00"),
                             quantity=1, line_total=Decimal("20.00"))
    Payment.objects.create(order=order, gateway="offline", intent_id="offline_fuzz", amount=order.total,
                           status="succeeded")
    return order


@pytest.fixture
def superuser(db):
    """A superuser with MFA: sees every admin page (personal data still masked)."""
    client = Client()
    client.force_login(staff_user(None, is_superuser=True))
    return client
