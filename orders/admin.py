from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from privacy.admin_mixins import PersonalDataAdmin

from . import services
from .forms import ShipOrderForm
from .models import Notification, Order, OrderLine, OrderStatusChange, Payment, WebhookEvent


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
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ["gateway", "intent_id", "status", "amount", "amount_received", "card_brand", "card_last4", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


SHIPPING_FIELDS = {"shipping_name", "shipping_line1", "shipping_line2", "shipping_city", "shipping_postal_code",
                   "shipping_region", "shipping_country", "phone"}


@admin.register(Order)
class OrderAdmin(PersonalDataAdmin):
    """Orders change only through services (status moves, shipping); never by free editing.
    Fulfilment staff see only orders awaiting shipment, with the delivery details in full."""

    list_display = ["reference", "status", "total", "created_at", "paid_at", "shipped_at"]
    masked_list_fields = ("email", "shipping_name", "shipping_city", "shipping_country")
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
        if not request.user.has_perm("orders.view_all_orders"):
            qs = qs.filter(status=Order.Status.PAID)
        return qs

    def unmasked_fields(self, request, obj) -> set[str]:
        if obj.status == Order.Status.PAID and request.user.has_perm("orders.ship_order"):
            return SHIPPING_FIELDS
        return set()

    def get_search_results(self, request, queryset, search_term):
        """An email finds a guest's orders through the blind index, without decrypting."""
        if "@" in search_term:
            from privacy.crypto import email_index

            return queryset.filter(email_index=email_index(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def statistics_view(self, request):
        from . import analytics

        if not request.user.has_perm("orders.view_statistics"):
            raise PermissionDenied
        days = analytics.sales_per_day()
        views = analytics.views_per_day()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Shop statistics",
                   "sales": days, "sales_chart": analytics.bars(days, "revenue", "day"),
                   "views": views, "views_chart": analytics.bars(views, "views", "day"),
                   "by_product": analytics.sales_per_week_by("product_name"),
                   "by_category": analytics.sales_per_week_by("product__category__name"),
                   "best": analytics.best_sellers(), "low": analytics.low_stock(),
                   "returns": analytics.returns_rate(), "top_viewed": analytics.top_viewed_products()}
        return render(request, "admin/orders/statistics.html", context)

    def get_urls(self):
        return [
            path("statistics/", self.admin_site.admin_view(self.statistics_view), name="orders_statistics"),
            path("<int:pk>/ship/", self.admin_site.admin_view(self.ship_view), name="orders_order_ship"),
            path("<int:pk>/deliver/", self.admin_site.admin_view(self.deliver_view), name="orders_order_deliver"),
        ] + super().get_urls()

    def _change_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk])

    def ship_view(self, request, pk: int):
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("orders.ship_order"):
            raise PermissionDenied
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
