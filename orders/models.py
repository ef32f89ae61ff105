"""Orders, their status history, payments, webhook events and the notification outbox.

An order keeps its amounts, lines, dates and reference for ever (traceability); the
person behind it (email, name, address, phone) is encrypted and can be anonymised alone.
"""
from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_countries import countries

from privacy.protection import encrypted

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


def new_reference() -> str:
    # 12 symbols of a 32-letter alphabet: 60 bits, not guessable, not sequential.
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    user = models.ForeignKey("shop.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    email = encrypted(models.EmailField(max_length=254))
    email_index = models.CharField(max_length=64, db_index=True, editable=False)
    shipping_name = encrypted(models.CharField(max_length=120))
    shipping_line1 = encrypted(models.CharField("address line 1", max_length=160))
    shipping_line2 = encrypted(models.CharField("address line 2", max_length=160, blank=True))
    shipping_city = encrypted(models.CharField("city", max_length=100))
    shipping_postal_code = encrypted(models.CharField("postal code", max_length=20, blank=True))
    shipping_region = encrypted(models.CharField("state / region", max_length=100, blank=True))
    shipping_country = encrypted(models.CharField("country", max_length=2, choices=countries))
    phone = encrypted(models.CharField(max_length=32, blank=True))

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True)
    currency = models.CharField(max_length=3, default="USD", editable=False)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    duties = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    policy = models.ForeignKey("privacy.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text="The privacy policy shown at checkout.")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_all_orders", "Can see every order (not only those awaiting shipment)"),
            ("ship_order", "Can mark orders shipped and see the delivery details needed to ship"),
            ("deliver_order", "Can mark orders delivered"),
            ("view_statistics", "Can see anonymous sales and visit statistics"),
        ]
        indexes = [
            # The retention purge walks orders still holding a person, in id order.
            models.Index(fields=["id"], condition=models.Q(anonymised_at__isnull=True), name="order_not_anonymised"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(currency="USD"), name="order_currency_usd"),
            models.CheckConstraint(condition=models.Q(shipping_cost=0, duties=0), name="order_free_shipping_and_duties"),
            models.CheckConstraint(condition=models.Q(total=models.F("subtotal")), name="order_total_is_subtotal"),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"reference": self.reference})

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("shop.Product", null=True, on_delete=models.SET_NULL, related_name="+")
    product_name = models.CharField(max_length=160)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey("shop.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class Payment(models.Model):
    """What we keep of a payment: gateway reference, status, amount, brand and last four."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=20)
    intent_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount_received = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    card_brand = encrypted(models.CharField(max_length=20, blank=True))
    card_last4 = encrypted(models.CharField(max_length=4, blank=True))
    failure_message = models.CharField(max_length=200, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(currency="USD"), name="payment_currency_usd")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.intent_id}"


class WebhookEvent(models.Model):
    """Each gateway event handled once: the unique id makes a replay a no-op."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=80)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"


class Notification(models.Model):
    """Outbox of customer emails. Written in the same transaction as the change it reports,
    so nothing is lost when the broker or the worker is down; delivered by a task, swept by
    beat. It holds ids only; the email is rendered when it is sent."""

    class Kind(models.TextChoices):
        ORDER_CONFIRMED = "order_confirmed", "Order confirmation"
        ORDER_SHIPPED = "order_shipped", "Order shipped"
        ORDER_DELIVERED = "order_delivered", "Order delivered"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        RETURN_REQUESTED = "return_requested", "Return request received"
        RETURN_APPROVED = "return_approved", "Return approved"
        RETURN_REFUSED = "return_refused", "Return refused"
        RETURN_RECEIVED = "return_received", "Return received"
        REFUND_ISSUED = "refund_issued", "Refund issued"
        SUPPORT_REPLY = "support_reply", "Reply from customer service"

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    thread = models.ForeignKey("orders.SupportThread", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    ref = models.CharField(max_length=40, blank=True, help_text="e.g. the return or message this is about")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["order", "thread", "kind", "ref"], name="notification_once")]

    def __str__(self) -> str:
        return f"{self.kind} for order #{self.order_id}"


class ReturnRequest(models.Model):
    """A customer's request to return some or all lines of a delivered order (P7)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved — send the parcel back"
        REFUSED = "refused", "Refused"
        RECEIVED = "received", "Received — refund on its way"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.REQUESTED, Status.APPROVED, Status.RECEIVED)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    reason = encrypted(models.TextField("reason", max_length=1000))
    refusal_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refund_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("handle_return", "Can approve, refuse and receive returns and issue refunds")]

    def __str__(self) -> str:
        return f"Return #{self.pk}"

    @property
    def amount(self):
        return sum((line.amount for line in self.lines.all()), Decimal("0.00"))


class ReturnLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="returned")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="returnline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × line #{self.order_line_id}"

    @property
    def amount(self):
        return self.order_line.unit_price * self.quantity


class Refund(models.Model):
    """Money given back through the payment gateway; one per return (idempotency key)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    return_request = models.OneToOneField(ReturnRequest, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    gateway = models.CharField(max_length=20)
    provider_ref = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=20, default="pending")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(currency="USD"), name="refund_currency_usd"),
                       models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"Refund {self.amount} for order #{self.order_id}"


class SupportThread(models.Model):
    """A customer-service conversation, signed-in or guest (P24)."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for us"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    user = models.ForeignKey("shop.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="threads")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads")
    email = encrypted(models.EmailField())
    email_index = models.CharField(max_length=64, db_index=True)
    subject = encrypted(models.CharField(max_length=160))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("reply_supportthread", "Can reply to customers")]

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"


class SupportMessage(models.Model):
    thread = models.ForeignKey(SupportThread, on_delete=models.CASCADE, related_name="messages")
    from_staff = models.BooleanField(default=False)
    staff_user = models.ForeignKey("shop.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    body = encrypted(models.TextField(max_length=5000))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class Attachment(models.Model):
    """A file sent with a message: image or PDF, type checked by content, stored encrypted in
    the private folder, never under a public URL."""

    message = models.ForeignKey(SupportMessage, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(max_length=80)  # random; the bytes are encrypted
    original_name = encrypted(models.CharField(max_length=120))
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Attachment #{self.pk}"
