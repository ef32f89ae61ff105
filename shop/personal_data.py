from datetime import timedelta

from django.db.models import Q

from privacy.models import ConsentRecord
from privacy.protection import mask_address_line, mask_email, mask_name, mask_phone, show
from privacy.registry import (
    DataCategory,
    Delete,
    LegalBasis,
    Personal,
    ProcessingPurpose,
    Retention,
    not_personal,
    on_withdrawal,
    register,
)

from .models import Address, BrowsingEvent, Cart, CartItem, CatalogueStamp, Product, User
from .models import Category as ProductCategory
from .personalisation import history_forget

register(
    User, subject="self", purpose=ProcessingPurpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "email": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_email,
                          plaintext_reason="The login: looked up at every sign-in, unique."),
        "name": Personal(DataCategory.IDENTITY, erase=Delete(), mask=mask_name),
        "phone": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_phone),
        "stripe_customer_id": Personal(DataCategory.PAYMENT, erase=Delete(), export=False, mask=show,
                                       plaintext_reason="The processor's id for you; holds nothing else."),
    },
    plain=["password"],  # an Argon2 hash, never the password (P3)
    # Inactive accounts (24 months without sign-in, warned 30 days before) are erased by a
    # dedicated rule in privacy.retention.purge, because erasure goes through erase_subject.
    recipients=("hosting", "email"),
    description="Your account: the email you sign in with, a hash of your password, and the name "
                "and phone you chose to give; when you confirmed being 18 or older.",
)
register(
    Address, subject="user", purpose=ProcessingPurpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "label": Personal(DataCategory.ADDRESS, erase=Delete()),
        "name": Personal(DataCategory.IDENTITY, erase=Delete(), mask=mask_name),
        "line1": Personal(DataCategory.ADDRESS, erase=Delete(), mask=mask_address_line),
        "line2": Personal(DataCategory.ADDRESS, erase=Delete(), mask=mask_address_line),
        "city": Personal(DataCategory.ADDRESS, erase=Delete(), mask=show),
        "postal_code": Personal(DataCategory.ADDRESS, erase=Delete(), mask=mask_address_line),
        "region": Personal(DataCategory.ADDRESS, erase=Delete(), mask=show),
        "country": Personal(DataCategory.ADDRESS, erase=Delete(), mask=show),
        "phone": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_phone),
    },
    recipients=("hosting",), description="Your address book, offered at checkout.",
)
register(
    Cart, subject="user", purpose=ProcessingPurpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT, fields={},
    category=DataCategory.BEHAVIOURAL, recipients=("hosting",), description="Your cart.",
    retention=[
        Retention("carts.guest", after="updated_at", keep_for=timedelta(days=30), then=Delete(),
                  applies=Q(user__isnull=True), description="Guest carts untouched for 30 days are deleted"),
        Retention("carts.user", after="updated_at", keep_for=timedelta(days=180), then=Delete(),
                  applies=Q(user__isnull=False), holds=("restriction",),
                  description="Account carts untouched for 180 days are emptied"),
    ],
)
register(
    CartItem, subject="cart__user", purpose=ProcessingPurpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={}, category=DataCategory.BEHAVIOURAL, recipients=("hosting",), description="What is in your cart.",
)
not_personal(ProductCategory, Product, reason="The catalogue.")
not_personal(CatalogueStamp, reason="A counter of catalogue changes, for cache invalidation.")


register(
    BrowsingEvent, subject="user", purpose=ProcessingPurpose.PERSONALISATION, legal_basis=LegalBasis.CONSENT,
    fields={}, category=DataCategory.BEHAVIOURAL,
    retention=[Retention("browsing.history", after="at", keep_for=timedelta(days=90), then=Delete(),
                         description="Each product view is forgotten after 90 days")],
    description="Products you looked at, kept only while you allow recommendations.",
)
# Turning recommendations off (anywhere: the privacy page, a restriction of processing) deletes
# what only they justified.
on_withdrawal(ConsentRecord.Purpose.PERSONALISATION, history_forget)
