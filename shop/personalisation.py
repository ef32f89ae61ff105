"""Recommendations from the customer's own browsing, only with their consent (P29).
Without consent nothing is recorded; withdrawing it deletes the history."""
from __future__ import annotations

from django.db.models import QuerySet

from privacy.consent import consent_allowed
from privacy.models import ConsentRecord

from .models import BrowsingEvent, Product, User

P = ConsentRecord.Purpose.PERSONALISATION
HISTORY_LIMIT = 50


def _allowed(request) -> bool:
    """The signed-in customer's personalisation consent, asked once per request (a product page
    both records the view and shows recommendations)."""
    if not request.user.is_authenticated:
        return False
    if not hasattr(request, "_personalisation_allowed"):
        request._personalisation_allowed = consent_allowed(P, user=request.user)
    return request._personalisation_allowed


def view_record(*, request, product: Product) -> bool:
    if not _allowed(request):
        return False
    user = request.user
    BrowsingEvent.objects.create(user=user, product=product)
    return True


def recently_viewed(*, user: User, limit: int = 6) -> list[Product]:
    seen, out = set(), []
    events = BrowsingEvent.objects.filter(user=user, product__is_active=True).select_related("product")
    for event in events.order_by("-at")[:HISTORY_LIMIT]:
        if event.product_id not in seen:
            seen.add(event.product_id)
            out.append(event.product)
        if len(out) == limit:
            break
    return out


def recommended(*, user: User, limit: int = 6) -> QuerySet[Product]:
    viewed = BrowsingEvent.objects.filter(user=user).order_by("-at").values_list("product_id", flat=True)[:HISTORY_LIMIT]
    viewed_ids = set(viewed)
    categories = Product.objects.filter(pk__in=viewed_ids).values_list("category_id", flat=True)
    return (Product.objects.available().filter(category_id__in=set(categories), stock__gt=0)
            .exclude(pk__in=viewed_ids).select_related("category").order_by("-created_at")[:limit])


def for_page(request) -> dict:
    if not _allowed(request):
        return {}
    user = request.user
    return {"recently_viewed": recently_viewed(user=user), "recommended": list(recommended(user=user))}


def history_forget(*, user) -> None:
    """Declared in shop.personal_data as what withdrawing personalisation deletes."""
    BrowsingEvent.objects.filter(user=user).delete()
