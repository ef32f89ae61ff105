from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules

from privacy.protection.roles import sync_roles


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        # Django forces these inside ready(): they load models, which an AppConfig module may not.
        from privacy.protection import signin
        from privacy.protection.crypto import install_key_ring
        from privacy.protection.sealing import install_person_keys
        from privacy.registry import checks  # noqa: F401  (registers the registry check)
        from privacy.retention.holds import register_privacy_holds

        autodiscover_modules("personal_data")
        register_privacy_holds()
        install_key_ring()
        install_person_keys()  # after the key ring: per-person keys for the models that have them
        signin.install()  # allauth's EmailAddress.email sealed like shop.User.email
        _neutral_names()
        # After every migrate (and every test-database flush): the roles follow ROLES without a
        # migration per change. Once per migrate is enough, so only on privacy's own signal.
        post_migrate.connect(_roles_sync, sender=self, dispatch_uid="privacy.roles_sync")


def _roles_sync(sender, apps=None, **kwargs) -> None:
    # migrate passes the migration state's apps; flush (TransactionTestCase) passes none.
    sync_roles(apps or global_apps)


def _neutral_names() -> None:
    """allauth's models name themselves after their personal data (the email; IP and browser),
    and Django shows that name in admin titles, breadcrumbs and history. Name them by id."""
    from allauth.account.models import EmailAddress  # Django forces model imports inside ready()
    from allauth.usersessions.models import UserSession

    EmailAddress.__str__ = lambda self: f"Email address #{self.pk}"
    UserSession.__str__ = lambda self: f"Session #{self.pk}"
