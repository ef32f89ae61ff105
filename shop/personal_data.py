from privacy.masking import mask_email
from privacy.registry import Category, Delete, LegalBasis, Personal, Purpose, not_personal, register

from .models import Cart, CartItem, Product, User
from .models import Category as ProductCategory

register(
    User, subject="self", purpose=Purpose.ACCOUNT, legal_basis=LegalBasis.CONTRACT,
    fields={"email": Personal(Category.CONTACT, erase=Delete(), mask=mask_email,
                              plaintext_reason="The login: looked up at every sign-in, unique.")},
    plain=["password"],  # an Argon2 hash, never the password (P3)
    recipients=("hosting", "email"),
    description="Your account: the email you sign in with and a hash of your password.",
)
register(
    Cart, subject="user", purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT, fields={},
    category=Category.BEHAVIOURAL, recipients=("hosting",), description="Your cart.",
)
register(
    CartItem, subject="cart__user", purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={}, category=Category.BEHAVIOURAL, recipients=("hosting",), description="What is in your cart.",
)
not_personal(ProductCategory, Product, reason="The catalogue.")
