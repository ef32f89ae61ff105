"""The customer-facing shop: users, catalogue and carts."""
from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django_countries import countries

from privacy.protection import (
    SIGNIN_EMAIL_HEAD,
    SignInEmailField,
    canonical_email,
    encrypted,
    validate_email_address,
)


class UserManager(BaseUserManager["User"]):
    """Every email goes in and is looked up in its canonical form (privacy.protection.emailaddr), with an
    exact match: never `iexact`, whose database folding differs from ours."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        try:
            return canonical_email(email or "")
        except ValidationError:
            return super().normalize_email(email)  # left for the field's validator to refuse

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        try:
            email = canonical_email(email)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, email: str) -> "User":
        try:
            return self.get(email=canonical_email(email))
        except ValidationError:
            raise self.model.DoesNotExist from None


class User(AbstractBaseUser, PermissionsMixin):
    """A registered customer or staff member. The email is the login; there is no username.

    The email is kept in its canonical form, sealed under the person's own key like every other
    personal field, beside a blind index that sign-in looks it up by (privacy.protection.signin);
    a unique index over that index keeps one account per address.
    """

    email = SignInEmailField("email address", unique=True, validators=[validate_email_address])
    name = encrypted(models.CharField(max_length=120, blank=True))
    phone = encrypted(models.CharField(max_length=32, blank=True))
    adult_confirmed_at = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=60, blank=True, editable=False)
    inactivity_warned_at = models.DateTimeField(null=True, blank=True)
    signup_policy = models.ForeignKey("privacy.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text="The privacy policy shown at sign-up.")
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Substr("email", 1, SIGNIN_EMAIL_HEAD),
                                               name="user_one_account_per_email")]

    def __str__(self) -> str:
        return f"User #{self.pk}"

    def clean(self) -> None:
        super().clean()
        try:
            self.email = canonical_email(self.email)
        except ValidationError:
            pass  # the field's validator reports it


class Address(models.Model):
    """A shipping address in a user's address book; at most one is the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = encrypted(models.CharField(max_length=40, blank=True, help_text="e.g. Home, Work"))
    name = encrypted(models.CharField("full name", max_length=120))
    line1 = encrypted(models.CharField("address line 1", max_length=160))
    line2 = encrypted(models.CharField("address line 2", max_length=160, blank=True))
    city = encrypted(models.CharField(max_length=100))
    postal_code = encrypted(models.CharField("postal code", max_length=20, blank=True))
    region = encrypted(models.CharField("state / region", max_length=100, blank=True))
    country = encrypted(models.CharField(max_length=2, choices=countries))
    phone = encrypted(models.CharField(max_length=32, blank=True))
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "pk"]
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(is_default=True),
                                               name="address_one_default_per_user")]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"Address #{self.pk}"


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product_list") + f"?category={self.slug}"


class ProductQuerySet(models.QuerySet["Product"]):
    def available(self) -> "ProductQuerySet":
        return self.filter(is_active=True)


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=180, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        "price (USD)", max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    stock = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to="products/", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Full-text search on PostgreSQL: filled by a database trigger (migration 0006) on every
    # insert and update, so save(), bulk_create() and update() all keep it current. SQLite
    # leaves it empty and searches with the simple fallback in selectors.product_list.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # The list's sort orders over the products on sale (partial indexes: the shop page reads
        # only those), so page N of any sort reads N pages of index, not the whole table.
        indexes = [models.Index(fields=["category", "is_active", "name"]),
                   models.Index(fields=["name", "id"], condition=models.Q(is_active=True), name="product_on_sale_by_name"),
                   models.Index(fields=["price", "id"], condition=models.Q(is_active=True), name="product_on_sale_by_price"),
                   models.Index(fields=["-created_at", "-id"], condition=models.Q(is_active=True),
                                name="product_on_sale_newest")]
        constraints = [models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product_detail", kwargs={"slug": self.slug})

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Cart(models.Model):
    """A shopping cart: a guest's (found through the session) or a user's (kept across logins)."""

    user = models.OneToOneField(
        "shop.User", null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Cart #{self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartitem_one_line_per_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cartitem_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class BrowsingEvent(models.Model):
    """A product a signed-in customer looked at — recorded only with their personalisation
    consent, deleted when they withdraw it or object (P29)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browsing")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"user #{self.user_id} viewed #{self.product_id}"


class CatalogueStamp(models.Model):
    """One row whose value changes whenever the catalogue does: database triggers (migration
    0007) bump it on every insert, update or delete of a product or a category, whatever the
    write path (admin, order placement taking stock, returns restocking, demo seeding, raw SQL),
    in the writer's own transaction. Cached catalogue HTML is keyed by it (shop.pagecache), so
    the first request after a change is rendered afresh."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue stamp {self.value}"
