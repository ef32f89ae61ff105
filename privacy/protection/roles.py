"""Staff roles, each with the least it needs (P11). Applied after every migrate by a post_migrate
receiver (privacy.apps): edit this table and run migrate; `sync_roles` is idempotent."""
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.db.models import Q

from privacy.protection.memo import PerObjectCache

ROLES: dict[str, list[str]] = {
    # Products only; sees no personal data.
    "Catalogue": ["shop.add_product", "shop.change_product", "shop.delete_product", "shop.view_product",
                  "shop.add_category", "shop.change_category", "shop.delete_category", "shop.view_category",
                  "orders.view_statistics"],
    # Orders, returns, messages; personal data masked.
    "Customer service": ["orders.view_order", "orders.view_all_orders", "orders.deliver_order",
                         "orders.view_payment", "orders.view_orderline", "orders.view_orderstatuschange",
                         "orders.view_notification", "shop.view_product", "shop.view_category",
                         "orders.view_statistics", "orders.view_returnrequest", "orders.handle_return",
                         "orders.view_supportthread", "orders.reply_supportthread", "orders.view_refund"],
    # Only orders awaiting shipment; sees the name, address and phone needed to ship.
    "Fulfilment": ["orders.view_order", "orders.ship_order", "orders.view_orderline"],
    # Requests, the access log, incidents, reveal.
    "Privacy officer": ["privacy.view_accesslogentry", "privacy.reveal_personal_data", "privacy.view_disclosure",
                        "orders.view_order", "orders.view_all_orders", "orders.view_payment",
                        "shop.view_user", "privacy.view_policyversion", "privacy.add_policyversion",
                        "privacy.change_policyversion", "privacy.view_consentrecord",
                        "privacy.view_marketingsubscriber", "privacy.view_restriction",
                        "privacy.view_privacyrequest", "privacy.add_privacyrequest",
                        "privacy.change_privacyrequest", "privacy.handle_privacyrequest",
                        "privacy.view_processordeletion", "privacy.view_purgerun",
                        "privacy.view_purgepostponement", "django_celery_beat.view_periodictask",
                        "django_celery_beat.change_periodictask", "privacy.view_incident",
                        "privacy.add_incident", "privacy.change_incident", "privacy.view_legalhold"],
    # Legal holds: places, changes and lifts them; sees their details, nobody's other data.
    "Legal": ["privacy.view_legalhold", "privacy.add_legalhold", "privacy.change_legalhold",
              "privacy.manage_legalhold"],
}


def sync_roles(apps, schema_editor=None) -> None:
    for config in apps.get_app_configs():
        # Migration-state app configs have no models module, and create_permissions skips
        # those; the live registry's (flush) do: restore whatever was there.
        original = getattr(config, "models_module", None)
        config.models_module = original or True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for label in perms:
            app_label, codename = label.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)


_role_perms: PerObjectCache[set[str]] = PerObjectCache()


def role_perms(user) -> set[str]:
    """The permissions a staff member holds through a role (group) or a direct grant, as
    "app_label.codename". Superuser status adds nothing here, although Django's has_perm says a
    superuser holds everything: seeing personal data unmasked for a job is granted by role only,
    so a superuser sees masks like everyone and reveals with a reason. Remembered per user object."""
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return set()
    cached = _role_perms.get(user)
    if cached is None:
        # Django forces this one inside: privacy.apps imports this module before models may load.
        from django.contrib.auth.models import Permission

        groups_query = "group__" + get_user_model()._meta.get_field("groups").related_query_name()
        rows = Permission.objects.filter(Q(user=user) | Q(**{groups_query: user})).values_list(
            "content_type__app_label", "codename").distinct()
        cached = {f"{app}.{codename}" for app, codename in rows}
        _role_perms.set(user, cached)
    return cached
