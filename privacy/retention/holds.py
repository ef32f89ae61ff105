"""The holds privacy itself places on retention, declared like the other apps' (a legal hold, an
open return): a restriction of processing, and a privacy request still being answered."""
from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q

from privacy.models import PrivacyRequest, Restriction
from privacy.registry import declarations as registry
from privacy.registry.hooks import hold_retention


def subject_column(entry: registry.Entry) -> str | None:
    """The column of the entry's rows holding the person's user id (None: rows name nobody)."""
    if entry.subject == "self":
        return "pk"
    return f"{entry.subject}_id" if entry.subject else None


def _subject_column_of(model: type[models.Model]) -> str | None:
    entry = next((e for e in registry.entries() if e.model is model), None)
    return subject_column(entry) if entry is not None else None


def _restriction(model: type[models.Model]) -> Q | None:
    column = _subject_column_of(model)
    if column is None:
        return None
    return Q(Exists(Restriction.objects.filter(user_id=OuterRef(column), lifted_at__isnull=True)))


def _open_request(model: type[models.Model]) -> Q | None:
    column = _subject_column_of(model)
    if column is None:
        return None
    # An erasure request is no reason to keep data: it is the reason to remove it.
    return Q(Exists(PrivacyRequest.objects.filter(user_id=OuterRef(column), status__in=PrivacyRequest.OPEN)
                    .exclude(kind=PrivacyRequest.Kind.ERASURE)))


def register_privacy_holds() -> None:
    """Called once the apps are ready (privacy.apps), like the other apps' personal_data modules."""
    hold_retention("restriction", label="restriction", condition=_restriction)
    hold_retention("open_request", label="open privacy request", condition=_open_request)
