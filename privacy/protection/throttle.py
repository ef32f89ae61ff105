"""One rate limiter for what one client can make the shop do: send an email, build an
export, check a password or a code.

What it guarantees:
- Every limit is counted in the shared cache (CACHES["default"]; Redis in production), so all
  web processes and hosts count together. Our views count with django-ratelimit (atomic
  increments, fixed windows); allauth counts its own forms (ACCOUNT_RATE_LIMITS) in the same cache.
- A client is the network it comes from as the trusted proxy reports it (client_ip): the same
  value allauth's adapter uses, cut to /24 or /48 (P28), so no full IP is ever a cache key.
- A target address is counted by its blind index (privacy.protection.crypto.email_index of the canonical
  address), never by the address: cache keys can end up in logs.
- When any limit of a view is reached the view does not run: nothing is sent, written or built,
  and the visitor gets templates/429.html (status 429, Retry-After).

Rates read "count/period" with period s, m, h or d and an optional multiplier ("5/15m");
SHOP_RATE_LIMITS overrides any of them by name and key, e.g. {"guest_export": {"email": "5/h"}}.
"""
from __future__ import annotations

import ipaddress
import math
import re
from functools import wraps
from typing import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from privacy.protection import email_index, truncate_ip

# name: {key: rate}. Keys: "ip" (the client's network), "email" (the address mail goes to or the
# account is about, by blind index), "user" (the signed-in account).
LIMITS: dict[str, dict[str, str]] = {
    "privacy_contact": {"ip": "10/h", "email": "5/h"},     # each request is acknowledged by email
    "guest_export": {"ip": "10/h", "email": "3/h"},        # emails a confirmation link to the address
    "export": {"ip": "20/h", "user": "5/h"},               # builds a full archive
    "delete_account": {"ip": "20/15m", "user": "5/15m"},   # checks the password and the TOTP code
    "marketing_subscribe": {"ip": "20/h", "user": "5/h"},  # emails a double opt-in link
    "support": {"ip": "10/h", "email": "5/h"},             # stores up to three attachments
    "support_reply": {"ip": "30/h", "email": "20/h"},
    "checkout": {"ip": "30/h", "email": "10/h"},           # each order placed emails its confirmation
    "partial_erasure": {"ip": "30/h", "user": "20/h"},     # deletes a kind of data and files a request
}
RATE = re.compile(r"^[1-9]\d*/\d*[smhd]$")


def limits() -> dict[str, dict[str, str]]:
    """LIMITS with the SHOP_RATE_LIMITS overrides, each rate checked (a typo must not become a 500)."""
    merged = {name: dict(keys) for name, keys in LIMITS.items()}
    for name, keys in (getattr(settings, "SHOP_RATE_LIMITS", None) or {}).items():
        if name not in merged or not isinstance(keys, dict) or not set(keys) <= {"ip", "email", "user"}:
            raise ImproperlyConfigured(f"SHOP_RATE_LIMITS: unknown limit or key in {name!r}")
        merged[name].update(keys)
    for name, keys in merged.items():
        for key, rate in keys.items():
            if not RATE.match(str(rate)):
                raise ImproperlyConfigured(f"SHOP_RATE_LIMITS: {name}.{key} = {rate!r} is not like '5/15m'")
    return merged


def _ip(value: str | None) -> str | None:
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.split(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The network the client comes from. Behind the TLS proxy REMOTE_ADDR is the proxy, so the
    client is what the proxy reports: ALLAUTH_TRUSTED_CLIENT_IP_HEADER, or the entry of
    X-Forwarded-For that the outermost of ALLAUTH_TRUSTED_PROXY_COUNT proxies appended (entries
    left of it are the client's own claims). Without a usable report, REMOTE_ADDR.
    Cut to /24 or /48: kept for security only and never whole (P28)."""
    header = getattr(settings, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", None)
    count = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    reported = None
    if header:
        reported = _ip(request.headers.get(header))
    elif count > 0:
        hops = [hop for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        reported = _ip(hops[-count]) if len(hops) >= count else None
    return truncate_ip(reported or request.META.get("REMOTE_ADDR"))


def ratelimit_ip(request: HttpRequest) -> str:
    """RATELIMIT_IP_META_KEY: django-ratelimit's "ip" is our client_ip too."""
    return client_ip(request)


def _key_value(key: str, request: HttpRequest, email: str | None) -> str | None:
    if key == "ip":
        return client_ip(request)
    if key == "user":
        return f"user:{request.user.pk}" if request.user.is_authenticated else None
    return f"email:{email_index(email)}" if email and email.strip() else None


def hit(request: HttpRequest, name: str, *, email: str | None = None) -> int | None:
    """Count one use of `name` against each of its limits. Returns None while every limit
    holds, else the seconds until the visitor may try again."""
    waits = []
    for key, rate in limits()[name].items():
        value = _key_value(key, request, email)
        if value is None:
            continue
        usage = get_usage(request, group=f"shop:{name}:{key}", key=lambda _group, _request, v=value: v,
                          rate=rate, increment=True)
        if usage is not None and usage["should_limit"]:
            waits.append(max(1, usage["time_left"]))
    return max(waits) if waits else None


def too_many(request: HttpRequest, retry_after: int | None = None) -> HttpResponse:
    minutes = math.ceil(retry_after / 60) if retry_after else None
    response = render(request, "429.html", {"retry_minutes": minutes}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _default_email(request: HttpRequest, *args, **kwargs) -> str | None:
    if request.user.is_authenticated:
        return request.user.email
    return request.POST.get("email")


def limit(name: str, *, email: Callable[..., str | None] = _default_email, methods=("POST",),
          when: Callable[[HttpRequest], bool] | None = None):
    """Decorate a view: each request of `methods` (and for which `when` holds) counts against
    LIMITS[name]; once a limit is reached the view is not called and the 429 page is shown.
    `email(request, *args, **kwargs)` names the target address (default: the signed-in
    account's, else the form's "email"). Put it below @login_required and @require_POST, so
    that only requests the view would act on are counted."""
    if name not in LIMITS:
        raise ImproperlyConfigured(f"No rate limit named {name!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method in methods and (when is None or when(request)):
                wait = hit(request, name, email=email(request, *args, **kwargs))
                if wait is not None:
                    return too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


limits()  # a typo in SHOP_RATE_LIMITS stops the start (the URL check imports the views), not a request
