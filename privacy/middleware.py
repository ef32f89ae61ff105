import uuid

from privacy.audit.log import request_id_var


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID) that the access log records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4().hex
        token = request_id_var.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response


class CoarseClientMiddleware:
    """Before anything can store it (allauth's session list), the user agent is cut down to
    "browser on system"; the IP is truncated by the account adapter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from privacy.protection.network import coarse_user_agent

        request.META["HTTP_USER_AGENT"] = coarse_user_agent(request.META.get("HTTP_USER_AGENT"))
        return self.get_response(request)


class ConsentEffectsMiddleware:
    """What consent switches on, applied after the view: anonymous page counts (analytics)
    and the campaign cookie (marketing). Without the consent, neither happens."""

    COUNTED = {"shop:home", "shop:product_list", "shop:product_detail", "shop:cart", "orders:checkout",
               "privacy:policy"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if request.method != "GET" or response.status_code != 200 or match is None:
            return response
        from privacy.consent import analytics
        from privacy.consent import ledger as consent

        P = consent.P
        if match.view_name in self.COUNTED and consent.allowed(P.ANALYTICS, request=request):
            analytics.count_view(view_name=match.view_name, product_id=getattr(request, "analytics_product", None))
        campaign = request.GET.get("utm_campaign", "")[:40]
        if campaign.isidentifier() and consent.allowed(P.MARKETING_COOKIES, request=request):
            response.set_cookie("mkt_campaign", campaign, max_age=30 * 86400, httponly=True, samesite="Lax",
                                secure=request.is_secure())
        return response


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
        from django.conf import settings

        self.get_response = get_response
        self.prefixes = (*self.PRIVATE_PREFIXES, settings.ADMIN_URL)

    def private(self, request) -> bool:
        return (request.method not in ("GET", "HEAD") or request.path_info.lstrip("/").startswith(self.prefixes)
                or getattr(request, "user", None) is not None and request.user.is_authenticated)

    def __call__(self, request):
        from django.utils.cache import add_never_cache_headers

        response = self.get_response(request)
        if self.private(request):
            add_never_cache_headers(response)
        return response
