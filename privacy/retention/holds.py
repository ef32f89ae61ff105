"""The holds privacy itself places on retention, declared like the other apps' (an open return):
a restriction of processing, a privacy request still being answered, and a legal hold on a
person (which also makes the person's erasure wait; a hold on one order is declared by orders)."""
from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q

from privacy.models import LegalHold, PrivacyRequest, Restriction
from privacy.registry import declarations as registry
from privacy.registry.hooks import block_erasure, hold_retention


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


def _person_hold(model: type[models.Model]) -> Q | None:
    column = _subject_column_of(model)
    if column is None:
        return None
    return Q(Exists(LegalHold.objects.active().filter(target=LegalHold.Target.PERSON, user_id=OuterRef(column))))


def _person_hold_exists(*, user=None, guest_index: str = "") -> bool:
    return user is not None and LegalHold.objects.active().filter(target=LegalHold.Target.PERSON, user=user).exists()


def register_privacy_holds() -> None:
    """Called once the apps are ready (privacy.apps), like the other apps' personal_data modules."""
    hold_retention("restriction", label="restriction", condition=_restriction)
    hold_retention("open_request", label="open privacy request", condition=_open_request)
    hold_retention("legal_hold_person", label="legal hold", condition=_person_hold)
    block_erasure("legal_hold_person", reason="a legal hold applies to your records", exists=_person_hold_exists)
