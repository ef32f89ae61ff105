from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from privacy.registry import checks  # noqa: F401  (registers the registry check)
        from privacy.protection.crypto import install_key_ring

        autodiscover_modules("personal_data")
        install_key_ring()
        _neutral_names()


def _neutral_names() -> None:
    """allauth's models name themselves after their personal data (the email; IP and browser),
    and Django shows that name in admin titles, breadcrumbs and history. Name them by id."""
    from allauth.account.models import EmailAddress
    from allauth.usersessions.models import UserSession

    EmailAddress.__str__ = lambda self: f"Email address #{self.pk}"
    UserSession.__str__ = lambda self: f"Session #{self.pk}"
