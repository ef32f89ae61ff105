
from django import forms as djforms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from privacy.admin import PersonalDataAdmin
from privacy.audit import audit_log
from privacy.models import AccessLogEntry
from privacy.protection import email_index, role_perms

from . import analytics, carrier, services, support
from . import returns as returns_service
from .forms import ShipOrderForm
from .models import (
    Attachment,
    Notification,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    ReturnLine,
    ReturnRequest,
    SupportThread,
    WebhookEvent,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["product_name", "unit_price", "quantity", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_label", "to_status", "by_whom", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by").prefetch_related("by__groups")

    @admin.display(description="from")
    def from_label(self, obj) -> str:
        return Order.Status(obj.from_status).label if obj.from_status in Order.Status.values else "—"

    @admin.display(description="by")
    def by_whom(self, obj) -> str:
        """Who moved it, by role: staff read "Customer service", not a staff member's account."""
        if obj.by is None:
            return "The shop"
        if not obj.by.is_staff:
            return "The customer"
        return ", ".join(sorted(g.name for g in obj.by.groups.all())) or "Staff"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PaymentInline(admin.StackedInline):  # stacked: label beside value, readable on a phone
    model = Payment
    extra = 0
    can_delete = False
    fields = ["gateway", "intent_id", "status", "amount", "amount_received", "card_brand", "card_last4", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


SHIPPING_FIELDS = {"shipping_name", "shipping_line1", "shipping_line2", "shipping_city", "shipping_postal_code",
                   "shipping_region", "shipping_country", "phone"}


@admin.action(description="Hand off to the carrier (CSV download; name, address, phone only)",
              permissions=["ship"])
def hand_off_to_carrier(modeladmin, request, queryset):
    try:
        name, data = carrier.carrier_hand_off(orders=list(queryset), by=request.user)
    except ValueError as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return None
    response = HttpResponse(data, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def erased_order_outlook(order: Order) -> dict | None:
    """For an order whose shipping details were erased while it was still open (only an erasure that
    could not wait, such as a guardian's request for a minor, does that): what can still happen to
    it, in words for the staff member looking at it. None for any other order."""
    if order.anonymised_at is None or order.status not in (Order.Status.PENDING_PAYMENT, Order.Status.PAID,
                                                           Order.Status.SHIPPED):
        return None
    when = f"{order.anonymised_at.day} {order.anonymised_at:%B %Y}"
    outlook = {
        Order.Status.PENDING_PAYMENT: "it is cancelled if it is not paid in time, and can only be refunded if it is",
        Order.Status.PAID: "it can be refunded in full (the items go back into stock), not shipped",
        Order.Status.SHIPPED: "the parcel is already with the carrier: it can be marked delivered or refunded",
    }[order.status]
    return {"text": f"Shipping details were erased on {when}, while the order was open: {outlook}.",
            "refund_in_full": order.status == Order.Status.PAID}


@admin.register(Order)
class OrderAdmin(PersonalDataAdmin):
    """Orders change only through services (status moves, shipping); never by free editing.
    Fulfilment staff see only orders awaiting shipment, with the delivery details in full."""

    list_display = ["reference", "status", "total", "created_at", "paid_at", "shipped_at"]
    masked_list_fields = ("email", "shipping_name", "shipping_city", "shipping_country")
    view_on_site = False  # the admin's /r/ shortcut would tell any staff member an order's reference
    list_filter = ["status", "created_at"]
    search_fields = ["reference", "tracking_number"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, StatusChangeInline]
    readonly_fields = ["reference", "status", "currency", "subtotal", "shipping_cost", "duties", "total",
                       "carrier", "tracking_number", "created_at", "paid_at", "shipped_at", "delivered_at",
                       "completed_at", "cancelled_at", "anonymised_at"]
    fields = readonly_fields
    change_form_template = "admin/orders/order/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not request.user.has_perm("orders.view_all_orders"):  # fulfilment: what can be shipped
            qs = qs.filter(status=Order.Status.PAID, anonymised_at__isnull=True)
        return qs

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra = {"erased": erased_order_outlook(order) if order is not None else None,
                 "can_refund_in_full": request.user.has_perm("orders.handle_return")}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    job_fields = {"orders.ship_order": SHIPPING_FIELDS}
    actions = [hand_off_to_carrier]

    def has_ship_permission(self, request) -> bool:
        return request.user.has_perm("orders.ship_order")

    def unmasked_fields(self, request, obj) -> set[str]:
        return super().unmasked_fields(request, obj) if obj.status == Order.Status.PAID else set()

    def get_search_results(self, request, queryset, search_term):
        """An email finds a guest's orders through the blind index, without decrypting."""
        if "@" in search_term:
            return queryset.filter(email_index=email_index(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def statistics_view(self, request):
        """Staff statistics: every figure k-anonymous (orders.analytics), charts drawn here as SVG."""
        if not request.user.has_perm("orders.view_statistics"):
            raise PermissionDenied
        k, days, views = analytics.min_people(), analytics.sales_per_day(), analytics.views_per_day()
        sale_days = [r for r in days["rows"] if r["hidden"] or r["orders"]]
        view_days = [r for r in views["rows"] if r["hidden"] or r["views"]]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Shop statistics",
                   "k": k, "weeks": analytics.WEEKS, "view_days": analytics.VIEW_DAYS,
                   "sales": days, "sale_days": sale_days,
                   "sales_chart": analytics.bar_chart(days["rows"], value="revenue", label="day", unit="$", k=k)
                   if len(sale_days) > 1 else None,
                   "views": views, "seen_days": view_days,
                   "views_chart": analytics.bar_chart(views["rows"], value="views", label="day", k=k)
                   if len(view_days) > 1 else None,
                   **analytics.sales_by_product(), "low": analytics.low_stock(), "returns": analytics.returns_rate(),
                   "top_viewed": analytics.top_viewed_products()}
        return render(request, "admin/orders/statistics.html", context)

    def get_urls(self):
        return [
            path("statistics/", self.admin_site.admin_view(self.statistics_view), name="orders_statistics"),
            path("<int:pk>/ship/", self.admin_site.admin_view(self.ship_view), name="orders_order_ship"),
            path("<int:pk>/deliver/", self.admin_site.admin_view(self.deliver_view), name="orders_order_deliver"),
            path("<int:pk>/refund-in-full/", self.admin_site.admin_view(self.refund_in_full_view),
                 name="orders_order_refund_in_full"),
        ] + super().get_urls()

    def _change_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def ship_view(self, request, pk: int):
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("orders.ship_order"):
            raise PermissionDenied
        if order.anonymised_at is not None:
            self.message_user(request, f"Order {order.reference} cannot be shipped: its shipping details were "
                                       "erased.", messages.ERROR)
            return redirect(self._change_url(order))
        form = ShipOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_mark_shipped(order=order, by=request.user, **form.cleaned_data)
            except services.TransitionError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Order {order.reference} marked shipped; the customer is emailed.")
            return redirect(self._change_url(order))
        context = {**self.admin_site.each_context(request), "order": order, "form": form,
                   "opts": self.model._meta, "title": f"Ship order {order.reference}"}
        return render(request, "admin/orders/order/ship.html", context)

    def refund_in_full_view(self, request, pk: int):
        """A paid order whose shipping details were erased: give the money back and close it."""
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("orders.handle_return"):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(self._change_url(order))
        try:
            refund = returns_service.order_refund_in_full(order=order, by=request.user)
        except returns_service.ReturnError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Order {order.reference}: ${refund.amount} refunded to the card; the order "
                                       "is closed as refunded and its items are back in stock.")
        return redirect(self._change_url(order))

    def deliver_view(self, request, pk: int):
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("orders.deliver_order"):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(self._change_url(order))
        try:
            services.order_mark_delivered(order=order, by=request.user)
        except services.TransitionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"Order {order.reference} marked delivered; the customer is emailed.")
        return redirect(self._change_url(order))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "order", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", "sent_at"]
    readonly_fields = ["order", "kind", "created_at", "sent_at", "attempts", "last_error"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["gateway", "type", "event_id", "received_at"]
    readonly_fields = ["gateway", "type", "event_id", "received_at"]

    def has_add_permission(self, request) -> bool:
        return False


# --- after-sales ---------------------------------------------------------------------------




class ReturnLineInline(admin.TabularInline):
    model = ReturnLine

    extra = 0
    can_delete = False
    fields = ["order_line", "quantity"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefusalForm(djforms.Form):
    reason = djforms.CharField(max_length=300, widget=djforms.Textarea(attrs={"rows": 3}))


@admin.register(ReturnRequest)
class ReturnRequestAdmin(PersonalDataAdmin):
    """Returns to decide, parcels to receive, refunds to issue; late refunds flagged."""

    list_display = ["id", "order", "status", "created_at", "received_at", "refund_due", "amount_display"]
    list_filter = ["status"]
    list_select_related = ["order"]
    fields = ["order", "status", "refusal_reason", "created_at", "decided_at", "received_at", "refund_due_at",
              "refunded_at"]
    readonly_fields = fields
    inlines = [ReturnLineInline]
    change_form_template = "admin/orders/returnrequest/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    job_fields = {"orders.handle_return": {"reason"}}

    @admin.display(description="refund due")
    def refund_due(self, obj) -> str:
        if obj.status != ReturnRequest.Status.RECEIVED or obj.refund_due_at is None:
            return "—"
        late = obj.refund_due_at < timezone.now()
        return f"⚠ LATE since {obj.refund_due_at:%d %b}" if late else f"by {obj.refund_due_at:%d %b}"

    @admin.display(description="amount")
    def amount_display(self, obj) -> str:
        return f"${obj.amount}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__order_line")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/step/<str:step>/", view(self.step_view), name="orders_return_step"),
                *super().get_urls()]

    def step_view(self, request, pk: int, step: str):
        if not request.user.has_perm("orders.handle_return"):
            raise PermissionDenied
        req = get_object_or_404(ReturnRequest, pk=pk)
        url = reverse("admin:orders_returnrequest_change", args=[pk])
        if step == "refuse":
            form = RefusalForm(request.POST or None)
            if request.method != "POST" or not form.is_valid():
                return render(request, "admin/privacy/privacyrequest/form.html", {
                    **self.admin_site.each_context(request), "opts": self.opts, "original": req, "form": form,
                    "title": f"Refuse return #{pk}"})
        if request.method != "POST":
            return redirect(url)
        try:
            if step == "approve":
                returns_service.return_approve(request=req, by=request.user)
            elif step == "refuse":
                returns_service.return_refuse(request=req, by=request.user, reason=form.cleaned_data["reason"])
            elif step == "receive":
                returns_service.return_receive(request=req, by=request.user)
            elif step == "refund":
                refund = returns_service.refund_issue(request=req, by=request.user)
                self.message_user(request, f"Refunded ${refund.amount} ({refund.provider_ref}).", messages.SUCCESS)
                return redirect(url)
            else:
                raise Http404
        except returns_service.ReturnError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, "Done; the customer is emailed.", messages.SUCCESS)
        return redirect(url)


class StaffReplyForm(djforms.Form):
    body = djforms.CharField(label="Reply", max_length=5000, widget=djforms.Textarea(attrs={"rows": 6}))


@admin.register(SupportThread)
class SupportThreadAdmin(PersonalDataAdmin):
    list_display = ["id", "status", "created_at", "updated_at", "order"]
    list_filter = ["status"]
    list_select_related = ["order"]
    masked_list_fields = ("email",)
    fields = ["status", "order", "created_at", "updated_at"]
    readonly_fields = fields
    change_form_template = "admin/orders/supportthread/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    job_fields = {"orders.reply_supportthread": {"subject"}}

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["conversation"] = obj.messages.prefetch_related("attachments")
            context["reply_form"] = StaffReplyForm()
            # the messages are shown to the role that answers them, not to every superuser
            context["can_reply"] = "orders.reply_supportthread" in role_perms(request.user)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/reply/", view(self.reply_view), name="orders_thread_reply"),
                path("attachment/<int:pk>/", view(self.attachment_view), name="orders_attachment"),
                *super().get_urls()]

    def reply_view(self, request, pk: int):
        if request.method != "POST" or not request.user.has_perm("orders.reply_supportthread"):
            raise PermissionDenied
        thread = get_object_or_404(SupportThread, pk=pk)
        form = StaffReplyForm(request.POST)
        if form.is_valid():
            support.staff_reply(thread=thread, staff=request.user, body=form.cleaned_data["body"])
            self.message_user(request, "Reply sent by email.", messages.SUCCESS)
        else:
            self.message_user(request, "Write a reply first.", messages.ERROR)
        return redirect(reverse("admin:orders_supportthread_change", args=[pk]))

    def attachment_view(self, request, pk: int):
        if not request.user.has_perm("orders.reply_supportthread"):
            raise PermissionDenied
        found = get_object_or_404(Attachment.objects.select_related("message__thread"), pk=pk)
        audit_log(actor=request.user, action=AccessLogEntry.Action.VIEW, model_label="orders.Attachment", object_ids=[pk],
                        fields=["file"], subject_user_ids=[found.message.thread.user_id])
        from .views import attachment_response  # one download answer for customers and staff

        return attachment_response(found, filename=f"attachment-{pk}")
