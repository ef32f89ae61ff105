import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Payment
from privacy.models import Disclosure
from privacy.processors.disclosure import PROCESSORS, UndeclaredDisclosure, disclose

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P15")
def test_sending_a_field_not_on_the_processors_list_fails_loudly():
    with pytest.raises(UndeclaredDisclosure, match="may not receive order.email"):
        disclose(processor="stripe", fields=["order.total", "order.email"])
    with pytest.raises(UndeclaredDisclosure):
        disclose(processor="carrier", fields=["order.email"])
    assert not Disclosure.objects.exists()


@pytest.mark.promise("P15")
@pytest.mark.promise("P23")
def test_a_stripe_payment_records_what_went_to_stripe_and_where(client, shopper, product, stripe_fake, user):
    client.force_login(user)
    shopper.add(product, 1)
    reference = shopper.checkout()["Location"].split("/")[2]
    client.get(reverse("orders:pay", args=[reference]))
    client.get(reverse("orders:pay", args=[reference]))  # a reload discloses nothing new
    customer, disclosure = Disclosure.objects.order_by("pk")
    assert customer.fields == ["user.reference"] and user.__class__.objects.get(pk=user.pk).stripe_customer_id
    assert (disclosure.processor, disclosure.country, disclosure.reference) == ("stripe", "US", reference)
    assert disclosure.fields == ["order.currency", "order.reference", "order.total"]
    assert disclosure.safeguard == PROCESSORS["stripe"].safeguard
    assert disclosure.subject_user == user
    assert Payment.objects.count() == 1


@pytest.mark.promise("P15")
def test_each_order_email_is_a_recorded_disclosure_to_the_email_provider(
        client, shopper, product, django_capture_on_commit_callbacks):
    shopper.add(product, 1)
    reference = shopper.checkout()["Location"].split("/")[2]
    with django_capture_on_commit_callbacks(execute=True):
        shopper.pay_offline(reference)
    assert len(mail.outbox) == 1
    disclosure = Disclosure.objects.get(processor="email")
    assert "order.email" in disclosure.fields and disclosure.reference == reference
    assert disclosure.subject_user is None and disclosure.guest_index  # a guest: found by blind index
    assert not Disclosure.objects.filter(processor="stripe").exists()  # offline gateway: nothing to Stripe


def test_every_processor_declares_country_safeguard_and_deletion():
    for processor in PROCESSORS.values():
        assert len(processor.country) == 2 and processor.safeguard and processor.deletion and processor.purpose
