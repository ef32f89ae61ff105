from decimal import Decimal

import factory
from django.utils.text import slugify

from orders.models import Order, OrderLine
from privacy.protection.crypto import email_index
from shop.models import Category, Product, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Users have a verified email unless built with verified=False."""
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=obj, email=obj.email, primary=True,
                                        verified=extracted is not False)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    description = "A sturdy thing."
    price = factory.LazyFunction(lambda: Decimal("19.99"))
    stock = 10

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["price"] = Decimal(str(kwargs["price"]))  # "49.50" in a test is a Decimal in the shop
        return super()._create(model_class, *args, **kwargs)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    email_index = factory.LazyAttribute(lambda o: email_index(o.email))
    shipping_name = "Ada Lovelace"
    shipping_line1 = "12 Analytical Row"
    shipping_city = "London"
    shipping_postal_code = "N1 9GU"
    shipping_country = "GB"
    subtotal = Decimal("19.99")
    total = Decimal("19.99")

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if create and not obj.lines.exists():
            OrderLine.objects.create(order=obj, product_name="Product", unit_price=obj.total, quantity=1,
                                     line_total=obj.total)


TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def enable_mfa(user) -> None:
    """Give a user an authenticator app, as staff must have before opening the admin."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, TOTP_SECRET)


def staff_user(role: str | None = None, *, mfa: bool = True, **extra):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    if mfa:
        enable_mfa(user)
    return user
