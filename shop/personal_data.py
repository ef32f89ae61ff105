from datetime import timedelta

from django.db.models import Q

from privacy.models import ConsentRecord
from privacy.protection import mask_address_line, mask_email, mask_name, mask_phone, show
from privacy.registry import (
    DataCategory,
    Decay,
    DecayTrigger,
    Delete,
    LegalBasis,
    PartialOutcome,
    Personal,
    ProcessingPurpose,
    Remove,
    Retention,
    not_personal,
    on_partial_erasure,
    on_withdrawal,
    register,
    residence_from,
)

from .models import Address, BrowsingEvent, Cart, CartItem, CatalogueStamp, Product, User
from .models import Category as ProductCategory
from .personalisation import history_forget

IDLE = timedelta(days=365)

register(
    User, subject="self", purpose=ProcessingPurpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "email": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_email),
        "name": Personal(DataCategory.IDENTITY, erase=Delete(), mask=mask_name),
        "phone": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_phone),
        "stripe_customer_id": Personal(DataCategory.PAYMENT, erase=Delete(), export=False, mask=show,
                                       plaintext_reason="The processor's id for you; holds nothing else."),
    },
    plain=["password"],  # an Argon2 hash, never the password (P3)
    # A phone number serves deliveries; a year without signing in, none is coming.
    decay=[Decay("accounts.phone_idle", fields=("phone",), action=Remove(), after="last_login", age=IDLE,
                 when=Q(is_staff=False), holds=("restriction",), trigger=DecayTrigger.LAST_SIGN_IN,
                 item="phone number",
                 description="The phone number on an account is removed a year after its last sign-in")],
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
    decay=[Decay("addresses.phone_idle", fields=("phone",), action=Remove(), after="user__last_login", age=IDLE,
                 holds=("restriction",), trigger=DecayTrigger.LAST_SIGN_IN, item="phone number",
                 description="Phone numbers in an address book are removed a year after the account's last sign-in")],
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


CALIFORNIA_NAMES = {"CA", "CALIFORNIA"}


def _residence(*, user) -> str:
    """The country of the person's saved address (the default one first); "US-CA" for California."""
    address = Address.objects.filter(user=user).order_by("-is_default", "-pk").first()
    if address is None or not address.country:
        return ""
    if address.country == "US" and (address.region or "").strip().upper() in CALIFORNIA_NAMES:
        return "US-CA"
    return str(address.country)


residence_from("address_book", _residence)

# --- partial erasure from the privacy page (privacy/rights/partial.py) -----------------------

def _rows_erase(qs, *, apply: bool, kept: list[str]) -> PartialOutcome:
    ids = list(qs.values_list("pk", flat=True))
    if apply and ids:
        qs.model.objects.filter(pk__in=ids).delete()
    return PartialOutcome(deleted={qs.model._meta.label: ids} if ids else {}, kept=kept)


on_partial_erasure(
    "browsing", label="Browsing history",
    explains="Every product you looked at while recommendations were on. Your orders, your cart and your "
             "choice about recommendations stay as they are.",
    run=lambda *, user, apply, **_: _rows_erase(BrowsingEvent.objects.filter(user=user), apply=apply, kept=[
        "Your choice about recommendations stays as it is: turn recommendations off to stop collecting."]),
)
on_partial_erasure(
    "addresses", label="Saved addresses",
    explains="Your address book. Addresses already on your orders stay on those orders: we need them for "
             "delivery, returns and accounting until the orders' own retention ends.",
    run=lambda *, user, apply, **_: _rows_erase(Address.objects.filter(user=user), apply=apply, kept=[
        "Delivery addresses written on your orders stay with those orders (delivery, returns, accounting)."]),
)
