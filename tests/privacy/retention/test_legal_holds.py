"""Legal holds (P13, P17): placed by the Legal role or a payment dispute, they keep exactly what
they cover — through erasure and retention — and nothing else; placing, changing and lifting are in
the access log; the person sees which records, on what basis and until when, never the details."""
import json
import time
from datetime import timedelta

import pytest
import stripe
import time_machine
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, Payment
from privacy.models import AccessLogEntry, LegalHold
from privacy.retention.legal_holds import (
    HoldError,
    HoldTerms,
    legal_hold_change,
    legal_hold_lift,
    legal_hold_place,
    legal_holds_expire,
)
from privacy.retention.purge import purge
from privacy.rights.erasure import ErasureBlocked, erase_subject
from privacy.tasks import legal_holds_expire as legal_holds_expire_task
from shop.models import BrowsingEvent, User
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.legal_holds import hold_on, hold_terms

pytestmark = pytest.mark.django_db
REASON = "Claim 2041 by a competitor: keep the invoice trail"


def delivered(user, days_ago=200):
    when = timezone.now() - timedelta(days=days_ago)
    return OrderFactory(user=user, status=Order.Status.DELIVERED, paid_at=when, delivered_at=when, created_at=when)


def hold_entries(action):
    return list(AccessLogEntry.objects.filter(action=action, model_label="privacy.LegalHold"))


@pytest.mark.promise("P13")
@pytest.mark.promise("P17")
def test_erasure_keeps_only_the_held_order_and_erases_it_when_the_hold_is_lifted():
    user = UserFactory()
    held, free = delivered(user), delivered(user)
    Payment.objects.create(order=held, gateway="stripe", intent_id="pi_held", amount=held.total,
                           card_brand="visa", card_last4="4242")
    hold = hold_on(order=held, by=None)
    report = erase_subject(user=user)
    assert not User.objects.filter(pk=user.pk).exists()
    held.refresh_from_db(), free.refresh_from_db()
    assert (free.shipping_name, free.anonymised_at is not None) == ("", True)
    assert (held.shipping_name, held.anonymised_at) == ("Ada Lovelace", None)  # kept, and only it
    assert Payment.objects.get(order=held).card_last4 == "4242"
    assert report.held == {"orders.Order": 1, "orders.OrderLine": 1, "orders.Payment": 1}
    hold.refresh_from_db()
    assert hold.erasure_waiting is True

    legal_hold_lift(hold=hold, lifted_by=None, reason="the claim was settled")
    held.refresh_from_db()
    assert (held.shipping_name, held.email, held.anonymised_at is not None) == ("", "", True)
    assert held.total == free.total and held.reference  # the amounts and the reference stay
    assert Payment.objects.get(order=held).card_last4 == ""
    lifted = hold_entries(AccessLogEntry.Action.HOLD_LIFT)
    assert len(lifted) == 1 and "settled" in lifted[0].reason


@pytest.mark.promise("P13")
def test_a_lifted_hold_on_a_person_who_asked_nothing_releases_to_the_normal_schedule_only():
    user = UserFactory()
    order = delivered(user)
    hold = hold_on(order=order)
    legal_hold_lift(hold=hold, lifted_by=None, reason="withdrawn")
    order.refresh_from_db()
    assert order.anonymised_at is None and order.user == user  # nobody asked: retention decides later


@pytest.mark.promise("P17")
def test_a_hold_on_a_person_makes_their_erasure_wait_and_says_why():
    user = UserFactory()
    hold_on(user=user)
    with pytest.raises(ErasureBlocked, match="a legal hold applies to your records"):
        erase_subject(user=user)
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.promise("P13")
@pytest.mark.parametrize("ended", ["lifted", "expired"])
def test_a_person_whose_hold_has_ended_is_erased_and_the_hold_stays_as_a_record(ended):
    """An ended hold no longer keeps anything: the erasure goes through (it used to fail on the
    hold row, which must name a person) and the hold stays, without the link to the person."""
    user = UserFactory()
    order = delivered(user)
    hold = hold_on(user=user)
    if ended == "lifted":
        legal_hold_lift(hold=hold, lifted_by=None, reason="claim withdrawn")
    else:
        LegalHold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    erase_subject(user=user)
    assert not User.objects.filter(pk=user.pk).exists()
    order.refresh_from_db()
    assert order.anonymised_at is not None and order.shipping_name == ""
    hold.refresh_from_db()
    assert (hold.target, hold.user_id, hold.reason) == (LegalHold.Target.PERSON, None, hold_terms(365).reason)


@pytest.mark.promise("P13")
def test_retention_postpones_what_a_hold_covers_and_nothing_more():
    product = ProductFactory()
    person, order_holder, other = UserFactory(), UserFactory(), UserFactory()
    old = timezone.now() - timedelta(days=200)
    for who in (person, other):
        BrowsingEvent.objects.create(user=who, product=product, at=old)
    orders = {who: delivered(who) for who in (person, order_holder, other)}
    hold_on(user=person)
    hold_on(order=orders[order_holder])
    run = purge()
    assert set(BrowsingEvent.objects.values_list("user_id", flat=True)) == {person.pk}  # not in the rule's holds
    kept = set(Order.objects.filter(anonymised_at__isnull=True).values_list("pk", flat=True))
    assert kept == {orders[person].pk, orders[order_holder].pk}
    assert run.counts["orders.delivered"]["postponed"] == {"legal hold": 2}


@pytest.mark.promise("P13")
def test_holds_expire_on_schedule_and_are_logged_once():
    user = UserFactory()
    order = delivered(user)
    hold = hold_on(order=order, days=10)
    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        assert not LegalHold.objects.active().exists()  # expired even before the task runs
        assert legal_holds_expire_task() == 1
        assert legal_holds_expire() == 0  # twice is harmless
    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lift_reason == "expired"
    assert len(hold_entries(AccessLogEntry.Action.HOLD_LIFT)) == 1


@pytest.mark.promise("P11")
def test_placing_and_changing_are_logged_without_the_investigations_details():
    staff = UserFactory(is_staff=True)
    order = delivered(UserFactory())
    hold = hold_on(order=order, by=staff)
    placed = hold_entries(AccessLogEntry.Action.HOLD_PLACE)
    assert [(e.actor_id, e.object_ids, e.subject_user_ids) for e in placed] == [
        (staff.pk, [str(hold.pk)], [order.user_id])]
    changed = legal_hold_change(hold=hold, terms=HoldTerms(kind=hold.kind, reason=hold.reason,
                                                           legal_basis=hold.legal_basis,
                                                           expires_at=hold.expires_at + timedelta(days=30)),
                                changed_by=staff)
    assert changed == ["expires_at"]
    assert hold_entries(AccessLogEntry.Action.HOLD_CHANGE)[0].fields == ["expires_at"]
    assert all("competitor" not in e.reason for e in AccessLogEntry.objects.all())


@pytest.mark.parametrize("terms, message", [
    (hold_terms(days=-1), "in the future"),
    (hold_terms(days=5000), "at most ten years"),
    (HoldTerms(kind="legal_claim", reason=" ", legal_basis="x", expires_at=timezone.now() + timedelta(days=5)),
     "reason and a legal basis"),
])
def test_incomplete_terms_are_refused_and_nothing_is_placed(terms, message):
    order = delivered(UserFactory())
    with pytest.raises(HoldError, match=message):
        legal_hold_place(terms=terms, placed_by=None, order_reference=order.reference)
    assert not LegalHold.objects.exists() and not AccessLogEntry.objects.exists()


# --- the privacy page -----------------------------------------------------------------------

@pytest.mark.promise("P17")
def test_the_person_sees_what_is_held_on_what_basis_until_when_but_not_the_details(client):
    user, other = UserFactory(), UserFactory()
    order = delivered(user)
    hold = hold_on(order=order)
    client.force_login(user)
    page = client.get(reverse("privacy:dashboard")).content.decode()
    assert "Records we must keep for now" in page
    assert f"Order {order.reference}: the order, its payments and its lines" in page
    assert "Establishing and defending legal claims" in page and "Legal claim" in page
    assert hold.expires_at.strftime("%B %Y") in page
    assert REASON not in page and "competitor" not in page
    client.force_login(other)
    assert "Records we must keep for now" not in client.get(reverse("privacy:dashboard")).content.decode()


# --- the admin and the Legal role ----------------------------------------------------------

def add_form(order, **kw):
    return {"target": "order", "order_reference": order.reference, "person_email": "", "kind": "legal_claim",
            "reason": REASON, "legal_basis": "Establishing and defending legal claims",
            "expires_at_0": (timezone.now() + timedelta(days=90)).strftime("%Y-%m-%d"), "expires_at_1": "12:00:00",
            **kw}


@pytest.mark.promise("P11")
def test_the_legal_role_places_and_lifts_a_hold_from_the_admin(staff_client):
    order = delivered(UserFactory())
    client = staff_client("Legal")
    response = client.post(reverse("admin:privacy_legalhold_add"), add_form(order))
    assert response.status_code == 302, response.content.decode()[:3000]
    hold = LegalHold.objects.get()
    assert (hold.target, hold.order_id, hold.reference, hold.placed_by) == ("order", order.pk, order.reference,
                                                                            client.user)
    detail = client.get(reverse("admin:privacy_legalhold_change", args=[hold.pk])).content.decode()
    assert REASON in detail  # the Legal role needs the details for its job
    response = client.post(reverse("admin:privacy_legalhold_lift", args=[hold.pk]), {"reason": "settled"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_by == client.user and hold.lift_reason == "settled"
    assert [e.actor_id for e in hold_entries(AccessLogEntry.Action.HOLD_PLACE)] == [client.user.pk]


def test_an_unknown_order_is_a_clear_message_and_nothing_is_placed(staff_client):
    client = staff_client("Legal")
    response = client.post(reverse("admin:privacy_legalhold_add"), add_form(delivered(None), order_reference="NOPE"))
    assert response.status_code == 200 and "No order has that reference." in response.content.decode()
    assert not LegalHold.objects.exists()


@pytest.mark.promise("P11")
def test_other_roles_cannot_place_or_lift_holds_and_see_no_details(staff_client):
    order = delivered(UserFactory())
    hold = hold_on(order=order)
    client = staff_client("Privacy officer")
    assert client.post(reverse("admin:privacy_legalhold_add"), add_form(order)).status_code == 403
    assert client.post(reverse("admin:privacy_legalhold_lift", args=[hold.pk]), {"reason": "x"}).status_code == 403
    detail = client.get(reverse("admin:privacy_legalhold_change", args=[hold.pk])).content.decode()
    assert REASON not in detail
    assert LegalHold.objects.get().lifted_at is None and LegalHold.objects.count() == 1


# --- Stripe disputes --------------------------------------------------------------------------

def dispute(kind, intent="pi_disputed", dispute_id="du_1", event_id="evt_d1"):
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
            "data": {"object": {"id": dispute_id, "object": "dispute", "payment_intent": intent}}}


def post(client, payload):
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(body, "whsec_test_secret")
    return client.post(reverse("orders:stripe_webhook"), body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


@pytest.mark.promise("P13")
def test_a_stripe_dispute_holds_its_order_until_it_closes(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    order, other = delivered(UserFactory()), delivered(UserFactory())
    Payment.objects.create(order=order, gateway="stripe", intent_id="pi_disputed", amount=order.total)
    assert post(client, dispute("charge.dispute.created")).content == b"applied"
    assert post(client, dispute("charge.dispute.created", event_id="evt_d1_again")).content == b"applied"
    hold = LegalHold.objects.get()  # one hold, however often Stripe tells us
    assert (hold.target, hold.order_id, hold.kind, hold.source) == ("order", order.pk, "payment_dispute",
                                                                    "stripe:du_1")
    assert hold.expires_at > timezone.now() + timedelta(days=179)
    assert not LegalHold.objects.filter(order_id=other.pk).exists()
    assert post(client, dispute("charge.dispute.closed", event_id="evt_d2")).content == b"applied"
    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lift_reason == "the payment dispute was closed"


def test_a_dispute_for_an_unknown_payment_places_nothing(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    assert post(client, dispute("charge.dispute.created", intent="pi_nobody")).status_code == 200
    assert not LegalHold.objects.exists()
