"""The personal center: profile, address book, security (orders: orders.views.my_orders; privacy:
privacy.rights.views). Every view is for
the signed-in owner only; another user's address is a 404."""
from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shop import services
from shop.models import Address

from .forms import AddressForm, ProfileForm


@login_required
@require_GET
def center(request: HttpRequest) -> HttpResponse:
    return render(request, "account/center.html", {"section": "center"})  # orders' own tag lists the recent ones


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial={"name": user.name, "phone": user.phone})
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=user, **form.cleaned_data)
        messages.success(request, "Your profile was saved.")
        return redirect("account:profile")
    return render(request, "account/profile.html", {"form": form, "section": "profile"},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def addresses(request: HttpRequest) -> HttpResponse:
    return render(request, "account/addresses.html",
                  {"addresses": Address.objects.filter(user=request.user), "section": "addresses"})


def _own_address(request: HttpRequest, pk: int) -> Address:
    return get_object_or_404(Address, pk=pk, user=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    address = _own_address(request, pk) if pk is not None else None
    initial = {n: getattr(address, n) for n in (*services.ADDRESS_FIELDS, "is_default")} if address else {}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.address_save(user=request.user, data=form.cleaned_data, address=address)
        messages.success(request, "The address was saved.")
        return redirect("account:addresses")
    return render(request, "account/address_form.html", {"form": form, "address": address, "section": "addresses"},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.address_delete(address=_own_address(request, pk))
    messages.success(request, "The address was deleted.")
    return redirect("account:addresses")


@login_required
@require_POST
def address_default(request: HttpRequest, pk: int) -> HttpResponse:
    services.address_make_default(address=_own_address(request, pk))
    messages.success(request, "Your default address was changed.")
    return redirect("account:addresses")


@login_required
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "account/security.html", {
        "mfa_enabled": is_mfa_enabled(request.user),
        "sessions": UserSession.objects.filter(user=request.user).count(),
        "section": "security",
    })
