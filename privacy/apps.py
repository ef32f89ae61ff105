from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the registry check)
        from .crypto import install_key_ring

        autodiscover_modules("personal_data")
        install_key_ring()
