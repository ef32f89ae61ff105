from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import selectors
from .models import Category
from .pagecache import catalogue_version


def shop(request):
    """Lazy values for the page frame: cost a query only when a template shows them.
    `catalogue_stamp` varies the {% cache %} fragments that show the catalogue (shop.pagecache):
    it changes with every product or category write, so a fragment is never stale (and names
    the database, so two shops sharing a cache server never swap fragments)."""
    return {
        "cart_count": SimpleLazyObject(lambda: selectors.cart_count(request)),
        "nav_categories": SimpleLazyObject(lambda: list(Category.objects.all())),
        "catalogue_stamp": SimpleLazyObject(lambda: catalogue_version(request)),
        "currency": settings.SHOP_CURRENCY,
        "privacy_contact": settings.SHOP_PRIVACY_CONTACT,
    }
