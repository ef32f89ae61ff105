from __future__ import annotations

import io
import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from privacy.consent import subscribe_request
from privacy.models import ConsentRecord
from privacy.policy import current_policy
from privacy.protection import FileUnavailable, hit, limit, too_many
from shop import selectors as shop_selectors
from shop.models import Address

from . import links, payments, selectors, services, support
from . import returns as returns_service
from .forms import CheckoutForm, ReplyForm, ReturnForm, SupportForm
from .links import order_from_guest_token
from .models import Attachment, Order, SupportThread

log = logging.getLogger(__name__)
GUEST_ORDERS_KEY = "guest_orders"
# Added to the payment page's policy only when Stripe takes the payment. frame-src replaces the
# default 'none' (a list mixing 'none' with sources is ignored by Chrome); the others extend 'self'.
STRIPE_CSP = {
    "script-src": ["https://js.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "img-src": ["https://*.stripe.com"],
}
STRIPE_FRAMES = {"frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"]}


def _order_for(request: HttpRequest, reference: str) -> Order:
    """The order, if this visitor owns it (signed-in owner, or the guest who placed it in
    this browser session); 404 for anybody else, never a hint that it exists."""
    order = selectors.order_detail(reference=reference)
    if order is None:
        raise Http404
    if request.user.is_authenticated and order.user_id == request.user.pk:
        return order
    if order.user_id is None and reference in request.session.get(GUEST_ORDERS_KEY, []):
        return order
    raise Http404


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = shop_selectors.cart_get(request)
    view = shop_selectors.cart_view(cart)
    if not view.lines:
        messages.info(request, "Your cart is empty.")
        return redirect("shop:cart")
    fingerprint = services.cart_fingerprint([(l.product.pk, l.quantity, l.unit_price) for l in view.lines])
    user = request.user if request.user.is_authenticated else None
    shown_policy = current_policy()
    initial = {"fingerprint": fingerprint, "email": user.email if user else "",
               "policy_version": shown_policy.version if shown_policy else ""}
    addresses = list(Address.objects.filter(user=user)) if user else []
    if user is not None:
        chosen = next((a for a in addresses if str(a.pk) == request.GET.get("address")), None) or \
            next((a for a in addresses if a.is_default), None)
        initial.update(name=user.name, phone=user.phone)
        if chosen is not None:
            initial.update({n: getattr(chosen, n) for n in ("name", "line1", "line2", "city", "postal_code",
                                                             "region", "country")})
            initial["phone"] = chosen.phone or user.phone
    form = CheckoutForm(request.POST or None, initial=initial, request=request)
    if user is not None:
        form.fields["email"].disabled = True  # a signed-in customer's orders go to their account email
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # Counted only for a complete form: that is what places an order and emails the address typed.
        wait = hit(request, "checkout", email=user.email if user else d["email"])
        if wait is not None:
            return too_many(request, wait)
        details = services.ShippingDetails(
            email=user.email if user else d["email"], name=d["name"], line1=d["line1"], line2=d["line2"],
            city=d["city"], postal_code=d["postal_code"], region=d["region"], country=d["country"],
            phone=d["phone"], policy_version=d["policy_version"],
        )
        try:
            order = services.order_place(cart=cart, customer=user, details=details, fingerprint=d["fingerprint"])
        except services.CheckoutError as exc:
            messages.error(request, str(exc))
            return redirect("shop:cart")
        except DatabaseError:
            log.exception("checkout failed to write")
            messages.error(request, "We could not save your order just now; nothing was charged and "
                                    "your cart is unchanged. Please try again in a moment.")
            return redirect("orders:checkout")
        if d["marketing"]:
            subscribe_request(email=details.email, user=user, channel=ConsentRecord.Channel.CHECKOUT,
                              against_gpc=form.marketing_against_gpc)
        if user is None:
            request.session[GUEST_ORDERS_KEY] = [*request.session.get(GUEST_ORDERS_KEY, [])[-19:], order.reference]
        return redirect("orders:pay", reference=order.reference)
    return render(request, "orders/checkout.html", {"form": form, "cart": view, "addresses": addresses},
                  status=400 if form.errors else 200)


@require_GET
def pay(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_for(request, reference)
    if order.status != Order.Status.PENDING_PAYMENT:
        return redirect(order.get_absolute_url() if order.user_id else reverse("orders:thanks", args=[reference]))
    gateway = payments.get_gateway()
    try:
        start = gateway.start(order=order)
    except payments.PaymentError as exc:
        return render(request, "orders/pay_unavailable.html", {"order": order, "message": str(exc)}, status=503)
    response = render(request, "orders/pay.html", {
        "order": order, "lines": order.lines.all(), "gateway": gateway.name, "client_secret": start.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "return_url": request.build_absolute_uri(reverse("orders:payment_return", args=[reference])),
    })
    if gateway.name == "stripe":  # the offline gateway loads nothing from anyone: frame-src stays 'none'
        response._csp_update, response._csp_replace = STRIPE_CSP, STRIPE_FRAMES
    return response


@require_POST
def pay_offline(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_for(request, reference)
    gateway = payments.get_gateway()
    if not isinstance(gateway, payments.OfflineGateway):
        raise Http404
    if order.status == Order.Status.PENDING_PAYMENT:
        gateway.confirm(payment=gateway.start(order=order).payment)
    return redirect("orders:thanks", reference=reference)


@require_GET
def payment_return(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_for(request, reference)
    payment = order.payments.filter(gateway="stripe").first()
    if payment is not None:
        try:
            payments.get_gateway().refresh(payment=payment)
        except payments.PaymentError as exc:
            messages.warning(request, str(exc))
    return redirect("orders:thanks", reference=reference)


@require_GET
def thanks(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_for(request, reference)
    return render(request, "orders/order_detail.html", {"order": order, "just_ordered": True,
                                                        **selectors.order_page_context(order)})


@require_GET
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    order = _order_for(request, reference)
    return render(request, "orders/order_detail.html", {
        "order": order, **selectors.order_page_context(order), "return_url": reverse("orders:return", args=[reference])})


@require_GET
def guest_detail(request: HttpRequest, token: str) -> HttpResponse:
    order = order_from_guest_token(token)
    if order is None:
        raise Http404
    return render(request, "orders/order_detail.html", {
        "order": order, **selectors.order_page_context(order),
        "return_url": reverse("orders:guest_return", args=[token])})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise Http404
    try:
        outcome = payments.stripe_webhook_handle(
            payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except payments.MalformedEvent as exc:
        return HttpResponseBadRequest(f"malformed event: {exc}", content_type="text/plain")
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("invalid signature or payload", content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


# --- returns -------------------------------------------------------------------------------


def _return_page(request: HttpRequest, order: Order, back: str) -> HttpResponse:
    available = returns_service.returnable(order)
    form = ReturnForm(request.POST or None, lines=order.lines.all(), available=available)
    if request.method == "POST" and form.is_valid():
        try:
            returns_service.return_request_create(order=order, quantities=form.quantities(),
                                                  reason=form.cleaned_data["reason"])
        except returns_service.ReturnError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your return request was sent. We will email you the next steps.")
            return redirect(back)
    return render(request, "orders/return_form.html", {"order": order, "form": form, "available": available,
                                                       "deadline": returns_service.return_deadline(order)},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def return_request(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_for(request, reference)
    back = order.get_absolute_url() if order.user_id else reverse("orders:thanks", args=[reference])
    return _return_page(request, order, back)


@require_http_methods(["GET", "POST"])
def guest_return_request(request: HttpRequest, token: str) -> HttpResponse:
    order = order_from_guest_token(token)
    if order is None:
        raise Http404
    return _return_page(request, order, reverse("orders:guest_detail", args=[token]))


# --- customer service ------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@limit("support")
def support_new(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    form = SupportForm(request.POST or None, request.FILES or None, user=user,
                       initial={"order_reference": request.GET.get("order", "")[:12]})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        order = None
        if d["order_reference"]:
            order = Order.objects.filter(reference=d["order_reference"].strip().upper()).first()
            mine = order is not None and ((user and order.user_id == user.pk) or
                                          (not user and order.reference in request.session.get(GUEST_ORDERS_KEY, [])))
            order = order if mine else None
        try:
            thread = support.thread_open(subject=d["subject"], body=d["message"], user=user, email=d.get("email", ""),
                                         order=order, files=d["files"])
        except support.SupportError as exc:
            form.add_error("files", str(exc))
        else:
            if user:
                messages.success(request, "Your message was sent; we answer within two working days.")
                return redirect("orders:thread", pk=thread.pk)
            return render(request, "orders/support_sent.html", {"thread": thread})
    return render(request, "orders/support_form.html", {"form": form}, status=400 if form.errors else 200)


def _thread_page(request: HttpRequest, thread: SupportThread, here: str) -> HttpResponse:
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            support.customer_reply(thread=thread, body=form.cleaned_data["message"], files=form.cleaned_data["files"])
        except support.SupportError as exc:
            form.add_error("files", str(exc))
        else:
            messages.success(request, "Your reply was sent.")
            return redirect(here)
    return render(request, "orders/thread.html", {
        "thread": thread, "messages_": thread.messages.prefetch_related("attachments"), "form": form,
        "here": here}, status=400 if form.errors else 200)


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    """The personal center's order list (at /account/orders/, beside the center's other pages)."""
    mine = selectors.orders_of(request.user).prefetch_related("lines")
    return render(request, "account/orders.html", {"orders": mine, "section": "orders"})


@login_required
@require_GET
def threads(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/threads.html", {"threads": SupportThread.objects.filter(user=request.user),
                                                   "section": "messages"})


@require_http_methods(["GET", "POST"])
@limit("support_reply")
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    found = SupportThread.objects.filter(pk=pk, user=request.user).first()
    if found is None:
        raise Http404
    return _thread_page(request, found, reverse("orders:thread", args=[pk]))


@require_http_methods(["GET", "POST"])
@limit("support_reply", email=lambda request, token: getattr(links.thread_from_guest_token(token), "email", None))
def guest_thread(request: HttpRequest, token: str) -> HttpResponse:
    found = links.thread_from_guest_token(token)
    if found is None:
        raise Http404
    request.session["support_threads"] = [*request.session.get("support_threads", [])[-9:], found.pk]
    return _thread_page(request, found, reverse("orders:guest_thread", args=[token]))


@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the conversation's owner (or the guest who opened its link in this browser)."""
    found = Attachment.objects.select_related("message__thread").filter(pk=pk).first()
    if found is None:
        raise Http404
    thread_ = found.message.thread
    owner = request.user.is_authenticated and thread_.user_id == request.user.pk
    guest = thread_.user_id is None and thread_.pk in request.session.get("support_threads", [])
    if not (owner or guest):
        raise Http404
    return attachment_response(found, filename=found.original_name)


def attachment_response(found: Attachment, *, filename: str) -> HttpResponse:
    """The file as a download never cached, or a plain 410 (deleted, or sealed for a person since
    erased: a restored copy) or 503 (the key store out of reach): never a 500. The customer's
    page and the staff's admin view both answer through it."""
    try:
        data = support.attachment_read(found)
    except FileNotFoundError:
        return HttpResponse(support.FILE_GONE, status=410, content_type="text/plain; charset=utf-8")
    except FileUnavailable:
        return HttpResponse(support.FILE_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    response = FileResponse(io.BytesIO(data), content_type=found.content_type, as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"
    return response
