"""First-party, anonymous statistics (P9): counts per day and page, per day and product.
No identifier, no IP, nothing per person: the counters cannot tell visitors apart."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from privacy.models import DailyPageViews, DailyProductViews


def _bump(model, **key) -> None:
    if model.objects.filter(**key).update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            model.objects.create(views=1, **key)
    except IntegrityError:  # created meanwhile by another request
        model.objects.filter(**key).update(views=F("views") + 1)


def count_view(*, view_name: str, product_id: int | None = None) -> None:
    day = timezone.localdate()
    _bump(DailyPageViews, day=day, path=view_name)
    if product_id:
        _bump(DailyProductViews, day=day, product_id=product_id)

