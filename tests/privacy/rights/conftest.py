import pytest
from django.utils import timezone

from orders.models import Order, Payment
from privacy.consent import ledger as consent
from privacy.models import ConsentRecord, MarketingSubscriber
from privacy.rights.subject_requests import request_open
from shop.models import Address, BrowsingEvent, Cart, CartItem
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.privacy.rights.sample_person import VALUES
from tests.uploads import png_bytes

P = ConsentRecord.Purpose


@pytest.fixture
def rich_user(db):
    """A customer with data everywhere: profile, addresses, orders, payment, cart, consents,
    marketing subscription, browsing history, a request."""
    v = VALUES
    user = UserFactory(email=v["email"], name=v["name"], phone=v["phone"])
    Address.objects.create(user=user, name=v["name"], line1=v["line1"], city=v["city"], postal_code=v["postal_code"],
                           country="US", phone=v["phone"], is_default=True)
    product = ProductFactory(name="Lunar Lamp")
    orders = [OrderFactory(user=user, email=v["email"], shipping_name=v["name"], shipping_line1=v["line1"],
                           shipping_city=v["city"], shipping_postal_code=v["postal_code"], shipping_country="US",
                           phone=v["phone"], status=Order.Status.COMPLETED, completed_at=timezone.now())
              for _ in range(3)]
    Payment.objects.create(order=orders[0], gateway="stripe", intent_id="pi_hamilton", amount=orders[0].total,
                           status="succeeded", card_brand="visa", card_last4="4242")
    cart = Cart.objects.create(user=user)
    CartItem.objects.create(cart=cart, product=product, quantity=1)
    consent.record(purpose=P.PERSONALISATION, granted=True, channel="dashboard", user=user, consent_id="c" * 32)
    BrowsingEvent.objects.create(user=user, product=product)
    MarketingSubscriber.objects.create(user=user, email=v["email"], email_index="i" * 64, token="t" * 32)
    request_open(kind="question", user=user, message=v["message"], notify=False)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import ReturnLine, ReturnRequest
    from orders.support import thread_open

    thread_open(subject="Flickering lamp", body=v["support"], user=user, order=orders[0],
                files=[SimpleUploadedFile(v["attachment"], png_bytes(), content_type="image/png")])
    request = ReturnRequest.objects.create(order=orders[1], reason=v["return_reason"], status="refunded")
    ReturnLine.objects.create(return_request=request, order_line=orders[1].lines.first(), quantity=1)
    return user
