from django.urls import path

from config import converters  # noqa: F401  (registers ref, signed, token, version)

from . import views

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<ref:reference>/", views.order_detail, name="detail"),
    path("orders/<ref:reference>/pay/", views.pay, name="pay"),
    path("orders/<ref:reference>/pay/offline/", views.pay_offline, name="pay_offline"),
    path("orders/<ref:reference>/pay/return/", views.payment_return, name="payment_return"),
    path("orders/<ref:reference>/thanks/", views.thanks, name="thanks"),
    path("orders/<ref:reference>/return/", views.return_request, name="return"),
    path("order-link/<signed:token>/", views.guest_detail, name="guest_detail"),
    path("order-link/<signed:token>/return/", views.guest_return_request, name="guest_return"),
    path("help/", views.support_new, name="support"),
    path("help/conversation/<signed:token>/", views.guest_thread, name="guest_thread"),
    path("help/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("account/orders/", views.my_orders, name="mine"),
    path("account/messages/", views.threads, name="threads"),
    path("account/messages/<int:pk>/", views.thread, name="thread"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
