"""What orders tells privacy (orders/personal_data.py), asked directly on real rows."""
import pytest
from django.db.models import Q

from orders.models import Order, OrderLine, OrderStatusChange, Payment, ReturnRequest
from privacy.models import ProcessorDeletion
from privacy.protection.crypto import email_index
from privacy.registry.hooks import erasure_blockers, erasure_hooks, retention_holds
from privacy.retention.legal_holds import legal_hold_lift
from shop.models import User
from tests.factories import OrderFactory, UserFactory
from tests.legal_holds import hold_on

pytestmark = pytest.mark.django_db


def blocker(key):
    return next(b for b in erasure_blockers() if b.key == key)


def held(key, model, pks):
    """The pks among `pks` that the hold postpones, run as the query retention runs."""
    condition = retention_holds()[key].condition(model)
    return set(model.objects.filter(pk__in=pks).filter(condition).values_list("pk", flat=True))


def payment_of(order):
    return Payment.objects.create(order=order, gateway="offline", intent_id=f"pi_{order.pk}", amount=order.total)


@pytest.mark.promise("P17")
@pytest.mark.parametrize("status, blocks", [
    (Order.Status.PENDING_PAYMENT, True), (Order.Status.PAID, True), (Order.Status.SHIPPED, True),
    (Order.Status.DELIVERED, False), (Order.Status.COMPLETED, False), (Order.Status.CANCELLED, False),
    (Order.Status.REFUNDED, False)])
def test_only_an_order_being_paid_prepared_or_delivered_blocks_erasure(status, blocks):
    owner, other = UserFactory(), UserFactory()
    guest = OrderFactory(status=status, email="guest@example.com")
    OrderFactory(status=status, user=owner)
    open_order = blocker("open_order")
    assert open_order.reason == "an order is still being paid for, prepared or delivered"
    assert open_order.exists(user=owner, guest_index="") is blocks
    assert open_order.exists(user=None, guest_index=guest.email_index) is blocks
    assert open_order.exists(user=other, guest_index="") is False  # someone else's order never blocks
    assert open_order.exists(user=None, guest_index=email_index("nobody@example.com")) is False


@pytest.mark.promise("P17")
@pytest.mark.parametrize("status, blocks", [
    (ReturnRequest.Status.REQUESTED, True), (ReturnRequest.Status.APPROVED, True),
    (ReturnRequest.Status.RECEIVED, True)] + [
    (s, False) for s in ReturnRequest.Status if s not in ReturnRequest.OPEN])
def test_an_open_return_blocks_erasure_and_a_settled_one_does_not(status, blocks):
    owner = UserFactory()
    mine = OrderFactory(status=Order.Status.DELIVERED, user=owner, email="owner@example.com")
    ReturnRequest.objects.create(order=mine, status=status, reason="too small")
    open_return = blocker("open_return")
    assert open_return.reason == "a return or refund is still open"
    assert open_return.exists(user=owner, guest_index="") is blocks
    assert open_return.exists(user=None, guest_index=mine.email_index) is blocks
    assert open_return.exists(user=UserFactory(), guest_index="") is False
    assert blocker("open_order").exists(user=owner, guest_index="") is False  # a delivered order alone does not


@pytest.mark.promise("P13")
def test_an_open_return_holds_its_order_payment_and_lines_and_nothing_else():
    returned, settled, untouched = (OrderFactory(status=Order.Status.DELIVERED) for _ in range(3))
    ReturnRequest.objects.create(order=returned, status=ReturnRequest.Status.REQUESTED, reason="broken")
    ReturnRequest.objects.create(order=settled, status=ReturnRequest.Status.REFUNDED, reason="broken")
    orders = [returned.pk, settled.pk, untouched.pk]
    payments = [payment_of(o).pk for o in (returned, settled, untouched)]
    lines = list(OrderLine.objects.filter(order_id__in=orders).values_list("pk", flat=True))
    assert retention_holds()["open_return"].label == "open return"
    assert held("open_return", Order, orders) == {returned.pk}
    assert held("open_return", Payment, payments) == {payments[0]}
    assert held("open_return", OrderLine, lines) == set(returned.lines.values_list("pk", flat=True))
    assert retention_holds()["open_return"].condition(ReturnRequest) is None  # not a held model
    assert retention_holds()["open_return"].condition(User) is None


@pytest.mark.promise("P13")
def test_a_legal_hold_holds_its_order_payment_and_lines_until_lifted():
    on_hold = OrderFactory(status=Order.Status.DELIVERED)
    free = OrderFactory(status=Order.Status.DELIVERED)
    hold = hold_on(order=on_hold)
    payments = [payment_of(on_hold).pk, payment_of(free).pk]
    lines = list(OrderLine.objects.filter(order__in=[on_hold, free]).values_list("pk", flat=True))
    assert retention_holds()["legal_hold"].label == "legal hold"
    assert held("legal_hold", Order, [on_hold.pk, free.pk]) == {on_hold.pk}
    assert held("legal_hold", Payment, payments) == {payments[0]}
    assert held("legal_hold", OrderLine, lines) == set(on_hold.lines.values_list("pk", flat=True))
    assert retention_holds()["legal_hold"].condition(OrderStatusChange) is None
    legal_hold_lift(hold=hold, lifted_by=None, reason="claim withdrawn")
    assert held("legal_hold", Order, [on_hold.pk, free.pk]) == set()
    assert isinstance(retention_holds()["legal_hold"].condition(Order), Q)


def stripe_hook():
    return next(h for h in erasure_hooks() if h.key == "stripe")


@pytest.mark.promise("P16")
def test_the_stripe_hook_records_a_pending_deletion_and_queues_it_only_after_commit(
        user, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("orders.personal_data._stripe_deletion_enqueue", queued.append)
    User.objects.filter(pk=user.pk).update(stripe_customer_id="cus_test123")
    user.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        line = stripe_hook().run(user=user, guest_index="", requested_by=None)
        assert queued == []  # nothing leaves while the erasure's transaction is open
    deletion = ProcessorDeletion.objects.get(processor="stripe")
    assert line == "stripe: deletion requested"
    assert (deletion.reference, deletion.subject_user_id) == ("cus_test123", user.pk)
    for callback in callbacks:
        callback()
    assert queued == [deletion.pk]  # an id, nothing personal


@pytest.mark.promise("P16")
def test_the_stripe_hook_does_nothing_for_a_guest_or_a_user_without_a_stripe_customer(
        user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert stripe_hook().run(user=user, guest_index="", requested_by=None) is None
        assert stripe_hook().run(user=None, guest_index=email_index("g@example.com"), requested_by=None) is None
    assert callbacks == [] and not ProcessorDeletion.objects.exists()
