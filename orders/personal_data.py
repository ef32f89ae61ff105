from privacy.protection.masking import mask_address_line, mask_email, mask_name, mask_phone, show
from datetime import timedelta

from django.db.models import Q

from privacy.registry.declarations import (
    Anonymise, Category, Delete, Keep, LegalBasis, Personal, Purpose, Retention, not_personal, register,
)

from .models import Notification, Order, OrderLine, OrderStatusChange, Payment, WebhookEvent

register(
    Order, subject="user", guest_index="email_index",
    purpose=Purpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "email": Personal(Category.CONTACT, mask=mask_email),
        "email_index": Personal(Category.CONTACT, export=False, mask=lambda v: "•••",
                                plaintext_reason="A keyed hash (blind index) used to find a guest's "
                                                 "orders; meaningless without BLIND_INDEX_KEY."),
        "shipping_name": Personal(Category.IDENTITY, mask=mask_name),
        "shipping_line1": Personal(Category.ADDRESS, mask=mask_address_line),
        "shipping_line2": Personal(Category.ADDRESS, mask=mask_address_line),
        "shipping_city": Personal(Category.ADDRESS, mask=show),
        "shipping_postal_code": Personal(Category.ADDRESS, mask=mask_address_line),
        "shipping_region": Personal(Category.ADDRESS, mask=show),
        "shipping_country": Personal(Category.ADDRESS, mask=show),
        "phone": Personal(Category.CONTACT, mask=mask_phone),
    },
    plain=["reference", "status", "currency", "carrier", "tracking_number", "legal_hold"],
    recipients=("hosting", "email", "carrier"),
    retention=[
        Retention("orders.unpaid", after="created_at", keep_for=timedelta(days=30), then=Delete(),
                  applies=Q(paid_at__isnull=True, status__in=["pending_payment", "cancelled"]),
                  holds=("restriction", "legal_hold"),
                  description="Checkouts never paid for are deleted"),
        Retention("orders.delivered", after="delivered_at", keep_for=timedelta(days=120), then=Anonymise(),
                  applies=Q(anonymised_at__isnull=True, status__in=["delivered", "completed", "refunded"]),
                  holds=("restriction", "open_return", "open_request", "legal_hold"),
                  description="Delivered orders lose the person after the 90-day return window and 30 days "
                              "for refunds to settle; amounts, lines, dates and references stay"),
        Retention("orders.refunded_undelivered", after="paid_at", keep_for=timedelta(days=120), then=Anonymise(),
                  applies=Q(anonymised_at__isnull=True, delivered_at__isnull=True,
                            status__in=["refunded", "cancelled"]),
                  holds=("restriction", "open_return", "open_request", "legal_hold"),
                  description="Paid orders cancelled or refunded before delivery lose the person likewise"),
    ],
    keep_rows="Accounting law: amounts, lines, dates and the order reference stay; the person goes.",
    before_delete=lambda ids: _delete_order_children(ids),
    description="Your orders: who and where to deliver to. Amounts, lines and dates are kept for "
                "accounting after the personal details are anonymised.",
)
register(
    OrderLine, subject="order__user", guest_index="order__email_index", purpose=Purpose.ORDER_FULFILMENT,
    legal_basis=LegalBasis.CONTRACT, fields={}, category=Category.BEHAVIOURAL, plain=["product_name"],
    keep_rows="Accounting law: what was sold stays; it no longer leads to you once the order is anonymised.",
    description="What you bought in each order.",
)
register(
    Payment, subject="order__user", guest_index="order__email_index", purpose=Purpose.PAYMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "intent_id": Personal(Category.PAYMENT, erase=Keep("Links the payment to the processor's record; "
                                                           "kept for accounting and refunds."),
                              mask=show, plaintext_reason="Looked up when Stripe reports on a payment; "
                                                          "identifies nobody without Stripe's records."),
        "card_brand": Personal(Category.PAYMENT, mask=show),
        "card_last4": Personal(Category.PAYMENT, mask=lambda v: f"•••• {v}" if v else ""),
    },
    plain=["gateway", "status", "currency", "failure_message"],
    retention=[Retention("payments.card_details", after="order__anonymised_at", keep_for=timedelta(0),
                         then=Anonymise(), applies=Q(anonymised_at__isnull=True),
                         description="Card brand and last four go when their order is anonymised")],
    recipients=("hosting", "stripe"),
    keep_rows="Accounting law and refunds: the payment record stays without card details.",
    description="Your payments: the processor's reference, status, amount, card brand and last four digits.",
)
not_personal(OrderStatusChange, reason="Status history; the note is staff's, about the order.")
not_personal(WebhookEvent, reason="Ids of processed payment events.")
not_personal(Notification, reason="Outbox rows hold ids only; emails are rendered when sent.")  # ref: an id

from .models import Attachment, Refund, ReturnLine, ReturnRequest, SupportMessage, SupportThread  # noqa: E402


def _delete_order_children(ids) -> None:
    Payment.objects.filter(order_id__in=ids).delete()  # PROTECTed; only unpaid orders are ever deleted


def _delete_attachment_files(*, attachment_ids=None, message_ids=None, thread_ids=None) -> None:
    from .support import attachment_path

    qs = Attachment.objects.all()
    if attachment_ids is not None:
        qs = qs.filter(pk__in=attachment_ids)
    if message_ids is not None:
        qs = qs.filter(message_id__in=message_ids)
    if thread_ids is not None:
        qs = qs.filter(message__thread_id__in=thread_ids)
    for name in qs.values_list("file_name", flat=True):
        attachment_path(name).unlink(missing_ok=True)


register(
    ReturnRequest, subject="order__user", guest_index="order__email_index", purpose=Purpose.ORDER_FULFILMENT,
    legal_basis=LegalBasis.CONTRACT, fields={"reason": Personal(Category.COMMUNICATIONS)},
    plain=["status", "refusal_reason"],
    keep_rows="Accounting law: returns and refunds stay with their order; your words go.",
    retention=[Retention("returns.reason", after="order__anonymised_at", keep_for=timedelta(0), then=Anonymise(),
                         applies=Q(anonymised_at__isnull=True),
                         description="Return reasons go when their order is anonymised")],
    description="Your return requests and why you returned things.",
)
not_personal(ReturnLine, reason="Which order lines and how many were returned.")
not_personal(Refund, reason="Amounts refunded and the processor's reference.")
register(
    SupportThread, subject="user", guest_index="email_index", purpose=Purpose.CUSTOMER_SERVICE,
    legal_basis=LegalBasis.CONTRACT,
    fields={"email": Personal(Category.CONTACT, erase=Delete(), mask=mask_email),
            "email_index": Personal(Category.CONTACT, erase=Delete(), export=False,
                                    plaintext_reason="Blind index, to find a guest's conversations."),
            "subject": Personal(Category.COMMUNICATIONS, erase=Delete()),
            "token": Personal(Category.TECHNICAL, erase=Delete(), export=False,
                              plaintext_reason="Random token in the link to the conversation.")},
    plain=["status"], recipients=("hosting", "email"),
    retention=[Retention("support.messages", after="updated_at", keep_for=timedelta(days=365), then=Delete(),
                         holds=("restriction",),
                         description="Customer-service conversations and attachments are deleted a year after "
                                     "the last message")],
    before_delete=lambda ids: _delete_attachment_files(thread_ids=ids),
    description="Your conversations with our customer service.",
)
register(
    SupportMessage, subject="thread__user", guest_index="thread__email_index", purpose=Purpose.CUSTOMER_SERVICE,
    legal_basis=LegalBasis.CONTRACT, fields={"body": Personal(Category.COMMUNICATIONS, erase=Delete())},
    before_delete=lambda ids: _delete_attachment_files(message_ids=ids),
    description="The messages in those conversations.",
)
register(
    Attachment, subject="message__thread__user", guest_index="message__thread__email_index",
    purpose=Purpose.CUSTOMER_SERVICE, legal_basis=LegalBasis.CONTRACT,
    fields={"original_name": Personal(Category.COMMUNICATIONS, erase=Delete()),
            "file_name": Personal(Category.COMMUNICATIONS, erase=Delete(), export=False,
                                  plaintext_reason="A random name; the file itself is encrypted.")},
    plain=["content_type"], before_delete=lambda ids: _delete_attachment_files(attachment_ids=ids),
    description="Files (images, PDF) you attached to messages.",
)
