"""Minimisation at the edge: a coarse user agent before anything stores it, and no browser or
shared cache keeping a page that can show personal data."""
from __future__ import annotations

from django.conf import settings
from django.utils.cache import add_never_cache_headers

from privacy.protection.network import coarse_user_agent


class CoarseClientMiddleware:
    """Before anything can store it (allauth's session list), the user agent is cut down to
    "browser on system"; the IP is truncated by the account adapter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META["HTTP_USER_AGENT"] = coarse_user_agent(request.META.get("HTTP_USER_AGENT"))
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages that can show personal data are never kept by a browser or a shared cache
    (Cache-Control: no-store, private): every response to a signed-in visitor, every answer to a
    form post (it echoes what was typed), and everything under the paths that show one person's
    account, orders, conversations or data even to a guest. One rule here, not a header per
    view, so a new page under these paths is covered without anyone remembering to; anonymous
    catalogue pages stay cacheable."""

    PRIVATE_PREFIXES = ("account/", "accounts/", "orders/", "order-link/", "help/conversation/",
                        "help/attachments/", "privacy/my-data/", "privacy/emails/", "checkout/", "cart/")

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = (*self.PRIVATE_PREFIXES, settings.ADMIN_URL)

    def private(self, request) -> bool:
        return (request.method not in ("GET", "HEAD") or request.path_info.lstrip("/").startswith(self.prefixes)
                or getattr(request, "user", None) is not None and request.user.is_authenticated)

    def __call__(self, request):
        response = self.get_response(request)
        if self.private(request):
            add_never_cache_headers(response)
        return response
