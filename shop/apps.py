from django.apps import AppConfig
from django.db import router
from django.db.models.signals import post_migrate


def catalogue_stamp_ensure(sender, using: str = "default", **kwargs) -> None:
    """The catalogue stamp's one row exists after every migrate and every flush (Django sends
    post_migrate after both): the page cache and its triggers need it, and a flushed test database
    would otherwise run without it."""
    from .models import CatalogueStamp  # models are loaded by the time post_migrate is sent

    if router.allow_migrate_model(using, CatalogueStamp):
        CatalogueStamp.objects.using(using).get_or_create(pk=1, defaults={"value": 0})


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (cart merge at login)

        post_migrate.connect(catalogue_stamp_ensure, sender=self)
