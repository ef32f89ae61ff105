"""System check: every model is classified in the personal-data registry, every text-like
field of a personal model is declared personal or plain, and personal fields are encrypted."""
from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.db import models
from django_cryptography.fields import EncryptedMixin

from privacy.registry import declarations as registry

TEXT_LIKE = (models.CharField, models.TextField, models.GenericIPAddressField, models.JSONField,
             models.FileField, models.BinaryField)


def _text_like(field: models.Field) -> bool:
    return isinstance(field, TEXT_LIKE) or isinstance(field, EncryptedMixin)


@checks.register("privacy")
def check_registry(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return check_models(apps.get_models())


def check_models(models_) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in models_:
        if model._meta.auto_created or model._meta.proxy:
            continue
        if not registry.is_classified(model):
            errors.append(checks.Error(
                f"{model._meta.label} is not in the personal-data registry.",
                hint="Declare it in its app's personal_data.py with register(...) or not_personal(...).",
                obj=model, id="privacy.E001"))
            continue
        entry = registry.entry_for(model)
        if entry is None:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        for name in sorted((set(entry.fields) | entry.plain) - names):
            errors.append(checks.Error(f"{model._meta.label}.{name} is declared but does not exist.",
                                       obj=model, id="privacy.E002"))
        for field in model._meta.concrete_fields:
            if field.name in entry.fields:
                personal = entry.fields[field.name]
                if not registry.encrypted_at_rest(field) and not personal.plaintext_reason:
                    errors.append(checks.Error(
                        f"{model._meta.label}.{field.name} is personal but not encrypted.",
                        hint="Wrap it with privacy.protection.crypto.encrypted(...) or give plaintext_reason.",
                        obj=model, id="privacy.E003"))
            elif _text_like(field) and field.name not in entry.plain:
                errors.append(checks.Error(
                    f"{model._meta.label}.{field.name} is not classified.",
                    hint="Declare it as Personal(...) in fields= or list it in plain=.",
                    obj=model, id="privacy.E004"))
        for step in entry.decay:
            for name in step.fields:
                if name not in entry.fields:
                    errors.append(checks.Error(
                        f"{model._meta.label}: decay step {step.setting} names {name}, not a declared personal field.",
                        obj=model, id="privacy.E006"))
        if entry.subject not in ("self", ""):
            try:
                _resolve(model, entry.subject)
            except Exception:
                errors.append(checks.Error(f"{model._meta.label}: subject path '{entry.subject}' is invalid.",
                                           obj=model, id="privacy.E005"))
    return errors


def _resolve(model: type[models.Model], path: str) -> type[models.Model]:
    current = model
    for part in path.split("__"):
        current = current._meta.get_field(part).related_model
    return current
