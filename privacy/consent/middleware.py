"""What consent switches on, applied after the view."""
from __future__ import annotations

from privacy.consent import analytics
from privacy.consent import ledger as consent
from privacy.models import ConsentRecord


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
        purpose = ConsentRecord.Purpose
        if match.view_name in self.COUNTED and consent.allowed(purpose.ANALYTICS, request=request):
            analytics.count_view(view_name=match.view_name, product_id=getattr(request, "analytics_product", None))
        campaign = request.GET.get("utm_campaign", "")[:40]
        if campaign.isidentifier() and consent.allowed(purpose.MARKETING_COOKIES, request=request):
            response.set_cookie("mkt_campaign", campaign, max_age=30 * 86400, httponly=True, samesite="Lax",
                                secure=request.is_secure())
        return response
