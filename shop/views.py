from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.web import redirect_back
from privacy.consent import consent_allowed
from privacy.models import ConsentRecord

from . import personalisation, selectors, services
from .forms import AddToCartForm, CartQuantityForm, CartRemoveForm, CatalogueFilterForm
from .models import Cart, Category, Product
from .pagecache import anonymous_page, catalogue_page, catalogue_read, frame
from .sessions import PUBLIC


@require_GET
@anonymous_page
def home(request: HttpRequest) -> HttpResponse:
    products = selectors.product_list(sort="newest").filter(stock__gt=0)[:8]  # only what can be bought now
    return render(request, "shop/home.html", {"products": products, **personalisation.for_page(request),
                                              **frame(request)})


@require_GET
@anonymous_page
def product_list(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    category = None
    if data.get("category"):
        category = Category.objects.filter(slug=data["category"]).first()
    query = data.get("q") or ""
    remembered = request.COOKIES.get("prefs_sort") if consent_allowed(ConsentRecord.Purpose.PREFERENCES, request=request) else None
    sort = data.get("sort") or (remembered if remembered in selectors.SORTS else "name")
    products = selectors.product_list(category=category, query=query, sort=sort)
    page = catalogue_page(request, products, number=request.GET.get("page"),
                          parts=(category.pk if category else None, query))
    params = request.GET.copy()
    params.pop("page", None)
    response = render(request, "shop/product_list.html", {
        "page": page, "form": form, "category": category, "query": query, "sort": sort,
        "sorts": [(key, label) for key, (label, _) in selectors.SORTS.items()],
        "querystring": params.urlencode(),
        "unknown_category": bool(data.get("category")) and category is None, **frame(request),
    })
    if data.get("sort") and consent_allowed(ConsentRecord.Purpose.PREFERENCES, request=request):
        response.set_cookie("prefs_sort", data["sort"], max_age=365 * 86400, httponly=True, samesite="Lax",
                            secure=request.is_secure())
    return response


@require_GET
@anonymous_page
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Kept under the catalogue stamp: a signed-in page skips the query and its compilation, and
    # any product or category write (price, stock, name) shows on the very next request.
    product = catalogue_read(request, parts=("product", slug), read=lambda: (
        Product.objects.available().select_related("category").filter(slug=slug).first()))
    if product is None:
        raise Http404("No such product.")
    request.analytics_product = product.pk  # counted only with analytics consent (middleware)
    personalisation.view_record(request=request, product=product)
    return render(request, "shop/product_detail.html", {
        "product": product, **personalisation.for_page(request), **frame(request),
    })


def _current_cart(request: HttpRequest, *, create: bool) -> Cart | None:
    cart = selectors.cart_get(request)
    if cart is None and create:
        if request.user.is_authenticated:
            cart = services.cart_for_user(user=request.user)
        else:
            cart = Cart.objects.create()
            request.session[selectors.CART_SESSION_KEY] = cart.pk
    return cart


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect_back(request, "shop:cart")
    product_id, quantity = form.cleaned_data["product"], form.cleaned_data["quantity"]
    # The usual case in one write (no cart lookup, no transaction); otherwise the full path says why.
    cart_id = request.session.get(selectors.CART_SESSION_KEY)
    added = services.cart_add_quick(user_id=request.user.pk if request.user.is_authenticated else None,
                                    cart_id=cart_id if isinstance(cart_id, int) else None,
                                    product_id=product_id, quantity=quantity)
    if added is None:
        cart = _current_cart(request, create=True)
        try:
            item = services.cart_add(cart=cart, product_id=product_id, quantity=quantity)
        except services.CartError as exc:
            messages.error(request, str(exc))
            return redirect_back(request, "shop:cart")
        added = services.Added(product_name=item.product.name, quantity=item.quantity)
    messages.success(request, f"Added to your cart: {added.product_name} (now {added.quantity}).", extra_tags=PUBLIC)
    return redirect_back(request, "shop:cart")


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    cart = _current_cart(request, create=False)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    elif cart is not None:
        try:
            services.cart_set_quantity(cart=cart, product_id=form.cleaned_data["product"],
                                       quantity=form.cleaned_data["quantity"])
            messages.success(request, "Your cart was updated.", extra_tags=PUBLIC)
        except services.CartError as exc:
            messages.error(request, str(exc))
    return redirect("shop:cart")


@require_POST
def cart_remove(request: HttpRequest) -> HttpResponse:
    form = CartRemoveForm(request.POST)
    cart = _current_cart(request, create=False)
    if form.is_valid() and cart is not None:
        services.cart_remove(cart=cart, product_id=form.cleaned_data["product"])
        messages.success(request, "The item was removed from your cart.", extra_tags=PUBLIC)
    return redirect("shop:cart")


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    view = selectors.cart_view(selectors.cart_get(request))
    return render(request, "shop/cart.html", {"cart": view})
