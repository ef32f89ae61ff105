from datetime import timedelta

from django.db.models import Q

from privacy.protection.masking import mask_address_line, mask_email, mask_name, mask_phone, show
from privacy.registry.declarations import Category, Delete, LegalBasis, Personal, Purpose, Retention, not_personal, register

from .models import Address, BrowsingEvent, Cart, CartItem, Product, User
from .models import Category as ProductCategory

register(
    User, subject="self", purpose=Purpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "email": Personal(Category.CONTACT, erase=Delete(), mask=mask_email,
                          plaintext_reason="The login: looked up at every sign-in, unique."),
        "name": Personal(Category.IDENTITY, erase=Delete(), mask=mask_name),
        "phone": Personal(Category.CONTACT, erase=Delete(), mask=mask_phone),
        "stripe_customer_id": Personal(Category.PAYMENT, erase=Delete(), export=False, mask=show,
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
    Address, subject="user", purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "label": Personal(Category.ADDRESS, erase=Delete()),
        "name": Personal(Category.IDENTITY, erase=Delete(), mask=mask_name),
        "line1": Personal(Category.ADDRESS, erase=Delete(), mask=mask_address_line),
        "line2": Personal(Category.ADDRESS, erase=Delete(), mask=mask_address_line),
        "city": Personal(Category.ADDRESS, erase=Delete(), mask=show),
        "postal_code": Personal(Category.ADDRESS, erase=Delete(), mask=mask_address_line),
        "region": Personal(Category.ADDRESS, erase=Delete(), mask=show),
        "country": Personal(Category.ADDRESS, erase=Delete(), mask=show),
        "phone": Personal(Category.CONTACT, erase=Delete(), mask=mask_phone),
    },
    recipients=("hosting",), description="Your address book, offered at checkout.",
)
register(
    Cart, subject="user", purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT, fields={},
    category=Category.BEHAVIOURAL, recipients=("hosting",), description="Your cart.",
    retention=[
        Retention("carts.guest", after="updated_at", keep_for=timedelta(days=30), then=Delete(),
                  applies=Q(user__isnull=True), description="Guest carts untouched for 30 days are deleted"),
        Retention("carts.user", after="updated_at", keep_for=timedelta(days=180), then=Delete(),
                  applies=Q(user__isnull=False), holds=("restriction",),
                  description="Account carts untouched for 180 days are emptied"),
    ],
)
register(
    CartItem, subject="cart__user", purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={}, category=Category.BEHAVIOURAL, recipients=("hosting",), description="What is in your cart.",
)
not_personal(ProductCategory, Product, reason="The catalogue.")


register(
    BrowsingEvent, subject="user", purpose=Purpose.PERSONALISATION, legal_basis=LegalBasis.CONSENT,
    fields={}, category=Category.BEHAVIOURAL,
    retention=[Retention("browsing.history", after="at", keep_for=timedelta(days=90), then=Delete(),
                         description="Each product view is forgotten after 90 days")],
    description="Products you looked at, kept only while you allow recommendations.",
)
