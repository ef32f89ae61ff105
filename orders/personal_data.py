import logging
from datetime import timedelta

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from kombu.exceptions import OperationalError

from privacy.models import LegalHold, ProcessorDeletion
from privacy.protection import mask_address_line, mask_email, mask_name, mask_phone, show
from privacy.registry import (
    Anonymise,
    DataCategory,
    Decay,
    DecayTrigger,
    Delete,
    Keep,
    LegalBasis,
    PartialOutcome,
    Personal,
    ProcessingPurpose,
    Remove,
    Retention,
    Truncate,
    block_erasure,
    hold_retention,
    hold_target,
    not_personal,
    on_erasure,
    on_partial_erasure,
    outward_postcode,
    register,
)
from privacy.rights import STRIPE_PENDING, delete_at_processor

from .models import (
    Attachment,
    Notification,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    Refund,
    ReturnLine,
    ReturnRequest,
    SupportMessage,
    SupportThread,
    WebhookEvent,
)
from .payments import stripe_customer_delete
from .support import attachment_file_delete

log = logging.getLogger(__name__)
RETURN_WINDOW = timedelta(days=settings.SHOP_RETURN_DAYS)
DELIVERED_NOT_ANONYMISED = Q(anonymised_at__isnull=True, delivered_at__isnull=False,
                             status__in=["delivered", "completed", "refunded"])

register(
    Order, subject="user", guest_index="email_index",
    purpose=ProcessingPurpose.ORDER_FULFILMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "email": Personal(DataCategory.CONTACT, mask=mask_email),
        "email_index": Personal(DataCategory.CONTACT, export=False, mask=lambda v: "•••",
                                plaintext_reason="A keyed hash (blind index) used to find a guest's "
                                                 "orders; meaningless without BLIND_INDEX_KEY."),
        "shipping_name": Personal(DataCategory.IDENTITY, mask=mask_name),
        "shipping_line1": Personal(DataCategory.ADDRESS, mask=mask_address_line),
        "shipping_line2": Personal(DataCategory.ADDRESS, mask=mask_address_line),
        "shipping_city": Personal(DataCategory.ADDRESS, mask=show),
        "shipping_postal_code": Personal(DataCategory.ADDRESS, mask=mask_address_line),
        "shipping_region": Personal(DataCategory.ADDRESS, mask=show),
        "shipping_country": Personal(DataCategory.ADDRESS, mask=show),
        "phone": Personal(DataCategory.CONTACT, mask=mask_phone),
    },
    plain=["reference", "status", "currency", "carrier", "tracking_number"],
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
    # Before the whole person goes (orders.delivered), what delivery alone needed fades: the
    # phone serves the carrier and a return's pick-up, so it goes when the return window closes
    # (an open return does not need it: refunds go back to the card); the street serves a return
    # parcel's match, so it goes, and the postcode shrinks to its district, once no return is open.
    # While the person's access request is open, nothing fades: they get the data as it was.
    decay=[
        Decay("orders.phone_after_returns", fields=("phone",), action=Remove(), after="delivered_at",
              age=RETURN_WINDOW, when=DELIVERED_NOT_ANONYMISED, holds=("restriction", "open_request"),
              trigger=DecayTrigger.RETURN_WINDOW_CLOSED, item="phone number",
              description="A delivered order's phone number is removed when the return window closes"),
        Decay("orders.street_after_refunds", fields=("shipping_line1", "shipping_line2"), action=Remove(),
              after="delivered_at", age=RETURN_WINDOW, when=DELIVERED_NOT_ANONYMISED,
              holds=("restriction", "open_return", "open_request"), trigger=DecayTrigger.REFUNDS_CLOSED, item="street address",
              description="A delivered order's street address is removed once the return window has closed "
                          "and no return or refund is open; city and country stay until the order is anonymised"),
        Decay("orders.postcode_after_refunds", fields=("shipping_postal_code",),
              action=Truncate(outward_postcode, "shortened to its district"), after="delivered_at",
              age=RETURN_WINDOW, when=DELIVERED_NOT_ANONYMISED, holds=("restriction", "open_return", "open_request"),
              trigger=DecayTrigger.REFUNDS_CLOSED, item="postcode",
              description="A delivered order's postcode is shortened to its district (SW1A 1AA becomes SW1A) "
                          "once the return window has closed and no return or refund is open"),
    ],
    description="Your orders: who and where to deliver to. Amounts, lines and dates are kept for "
                "accounting after the personal details are anonymised.",
)
register(
    OrderLine, subject="order__user", guest_index="order__email_index", purpose=ProcessingPurpose.ORDER_FULFILMENT,
    legal_basis=LegalBasis.CONTRACT, fields={}, category=DataCategory.BEHAVIOURAL, plain=["product_name"],
    keep_rows="Accounting law: what was sold stays; it no longer leads to you once the order is anonymised.",
    description="What you bought in each order.",
)
register(
    Payment, subject="order__user", guest_index="order__email_index", purpose=ProcessingPurpose.PAYMENT, legal_basis=LegalBasis.CONTRACT,
    fields={
        "intent_id": Personal(DataCategory.PAYMENT, erase=Keep("Links the payment to the processor's record; "
                                                           "kept for accounting and refunds."),
                              mask=show, plaintext_reason="Looked up when Stripe reports on a payment; "
                                                          "identifies nobody without Stripe's records."),
        "card_brand": Personal(DataCategory.PAYMENT, mask=show),
        "card_last4": Personal(DataCategory.PAYMENT, mask=lambda v: f"•••• {v}" if v else ""),
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


def _delete_order_children(ids) -> None:
    Payment.objects.filter(order_id__in=ids).delete()  # PROTECTed; only unpaid orders are ever deleted


def _delete_attachment_files(*, attachment_ids=None, message_ids=None, thread_ids=None) -> None:
    qs = Attachment.objects.all()
    if attachment_ids is not None:
        qs = qs.filter(pk__in=attachment_ids)
    if message_ids is not None:
        qs = qs.filter(message_id__in=message_ids)
    if thread_ids is not None:
        qs = qs.filter(message__thread_id__in=thread_ids)
    for name in qs.values_list("file_name", flat=True):
        attachment_file_delete(name=name)


register(
    ReturnRequest, subject="order__user", guest_index="order__email_index", purpose=ProcessingPurpose.ORDER_FULFILMENT,
    legal_basis=LegalBasis.CONTRACT, fields={"reason": Personal(DataCategory.COMMUNICATIONS)},
    plain=["status", "refusal_reason"],
    keep_rows="Accounting law: returns and refunds stay with their order; your words go.",
    decay=[Decay("returns.reason_after_refund", fields=("reason",), action=Remove(), after="refunded_at",
                 age=timedelta(days=30), when=Q(anonymised_at__isnull=True, status="refunded"),
                 holds=("restriction",), trigger=DecayTrigger.RETURN_CLOSED, item="return reason",
                 description="Why you returned something is removed 30 days after the refund")],
    retention=[Retention("returns.reason", after="order__anonymised_at", keep_for=timedelta(0), then=Anonymise(),
                         applies=Q(anonymised_at__isnull=True),
                         description="Return reasons go when their order is anonymised")],
    description="Your return requests and why you returned things.",
)
not_personal(ReturnLine, reason="Which order lines and how many were returned.")
not_personal(Refund, reason="Amounts refunded and the processor's reference.")
register(
    SupportThread, subject="user", guest_index="email_index", purpose=ProcessingPurpose.CUSTOMER_SERVICE,
    legal_basis=LegalBasis.CONTRACT,
    fields={"email": Personal(DataCategory.CONTACT, erase=Delete(), mask=mask_email),
            "email_index": Personal(DataCategory.CONTACT, erase=Delete(), export=False,
                                    plaintext_reason="Blind index, to find a guest's conversations."),
            "subject": Personal(DataCategory.COMMUNICATIONS, erase=Delete()),
            "token": Personal(DataCategory.TECHNICAL, erase=Delete(), export=False,
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
    SupportMessage, subject="thread__user", guest_index="thread__email_index", purpose=ProcessingPurpose.CUSTOMER_SERVICE,
    legal_basis=LegalBasis.CONTRACT, fields={"body": Personal(DataCategory.COMMUNICATIONS, erase=Delete())},
    before_delete=lambda ids: _delete_attachment_files(message_ids=ids),
    description="The messages in those conversations.",
)
register(
    Attachment, subject="message__thread__user", guest_index="message__thread__email_index",
    purpose=ProcessingPurpose.CUSTOMER_SERVICE, legal_basis=LegalBasis.CONTRACT,
    fields={"original_name": Personal(DataCategory.COMMUNICATIONS, erase=Delete()),
            "file_name": Personal(DataCategory.COMMUNICATIONS, erase=Delete(), export=False,
                                  plaintext_reason="A random name; the file itself is encrypted.")},
    plain=["content_type"], before_delete=lambda ids: _delete_attachment_files(attachment_ids=ids),
    description="Files (images, PDF) you attached to messages.",
)


# --- what privacy must know about orders (privacy/registry/hooks.py) -----------------------

OPEN_ORDER_STATUSES = (Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.SHIPPED)


def _open_order_exists(*, user=None, guest_index: str = "") -> bool:
    orders = Order.objects.filter(status__in=OPEN_ORDER_STATUSES)
    return (orders.filter(user=user) if user is not None else orders.filter(email_index=guest_index)).exists()


def _open_return_exists(*, user=None, guest_index: str = "") -> bool:
    returns = ReturnRequest.objects.filter(status__in=ReturnRequest.OPEN)
    if user is not None:
        return returns.filter(order__user=user).exists()
    return returns.filter(order__email_index=guest_index).exists()


# Which column of each held model names its order; models not listed are not held.
_ORDER_COLUMN = {Order: "pk", Payment: "order_id", OrderLine: "order_id"}


def _open_return_condition(model) -> Q | None:
    column = _ORDER_COLUMN.get(model)
    if column is None:
        return None
    return Q(Exists(ReturnRequest.objects.filter(order_id=OuterRef(column), status__in=ReturnRequest.OPEN)))


def _legal_hold_condition(model) -> Q | None:
    column = _ORDER_COLUMN.get(model)
    if column is None:
        return None
    return Q(Exists(LegalHold.objects.active().filter(target=LegalHold.Target.ORDER, order_id=OuterRef(column))))


def _order_for_hold(reference: str) -> tuple[int, int | None] | None:
    found = Order.objects.filter(reference=reference.strip().upper()).values_list("pk", "user_id").first()
    return tuple(found) if found else None


def _stripe_deletion_enqueue(deletion_id: int) -> None:
    # By name, so orders needs no import of privacy's task module; eager mode still runs it in-process.
    try:
        signature("privacy.tasks.stripe_customer_delete", args=(deletion_id,)).delay()
    except OperationalError:  # broker down: privacy's daily erasure run queues it again
        log.warning("stripe deletion %s not queued; the daily erasure run queues it again", deletion_id)


def _stripe_customer_erase(*, user=None, guest_index: str = "", requested_by=None) -> str | None:
    """Record the Stripe customer's deletion as pending and ask Stripe once the erasure has
    committed: a rolled-back erasure deletes nothing at Stripe, and a slow or failing Stripe
    neither holds the erasure's transaction open nor undoes it (the task retries)."""
    if user is None or not user.stripe_customer_id:
        return None
    deletion = ProcessorDeletion.objects.create(processor="stripe", reference=user.stripe_customer_id,
                                                subject_user_id=user.pk, outcome=STRIPE_PENDING)
    transaction.on_commit(lambda: _stripe_deletion_enqueue(deletion.pk))
    return "stripe: deletion requested"


block_erasure("open_order", reason="an order is still being paid for, prepared or delivered", exists=_open_order_exists)
block_erasure("open_return", reason="a return or refund is still open", exists=_open_return_exists)
hold_retention("open_return", label="open return", condition=_open_return_condition)
hold_retention("legal_hold", label="legal hold", condition=_legal_hold_condition)
hold_target("order", model=Order, find=_order_for_hold, covers="the order, its payments and its lines")
on_erasure("stripe", run=_stripe_customer_erase)
delete_at_processor("stripe", delete=lambda customer_id: stripe_customer_delete(customer_id=customer_id))



def _conversations_erase(*, user, apply: bool, **_) -> PartialOutcome:
    """A person's customer-service conversations go with their messages and attachments (files
    too), except those about an order still open or with an open return: they are still needed."""
    threads = SupportThread.objects.filter(user=user)
    needed = threads.filter(Q(order__status__in=OPEN_ORDER_STATUSES)
                            | Q(Exists(ReturnRequest.objects.filter(order_id=OuterRef("order_id"),
                                                                    status__in=ReturnRequest.OPEN))))
    needed_ids = set(needed.values_list("pk", flat=True))
    ids = [pk for pk in threads.values_list("pk", flat=True) if pk not in needed_ids]
    deleted: dict[str, list] = {}
    if ids:
        deleted = {
            "orders.SupportThread": ids,
            "orders.SupportMessage": list(SupportMessage.objects.filter(thread_id__in=ids).values_list("pk", flat=True)),
            "orders.Attachment": list(Attachment.objects.filter(message__thread_id__in=ids).values_list("pk", flat=True)),
        }
        deleted = {label: pks for label, pks in deleted.items() if pks}
    if apply and ids:
        _delete_attachment_files(thread_ids=ids)
        SupportThread.objects.filter(pk__in=ids).delete()
    kept = [f"{len(needed_ids)} conversation(s) about an order still on its way or with a return still open stay, "
            "with their attachments, until that is finished."] if needed_ids else []
    return PartialOutcome(deleted=deleted, kept=kept)


on_partial_erasure(
    "conversations", label="Customer-service conversations",
    explains="Your conversations with our customer service, their messages and the files you attached. A "
             "conversation about an order still on its way or with a return still open stays until that is "
             "finished. Your orders and returns themselves stay.",
    run=_conversations_erase,
)
