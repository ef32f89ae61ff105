"""Reads of a person's data, driven by the registry: what we hold about a user, found
through each model's subject path (and, for guest records, the blind index of their email)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from privacy.models import LegalHold
from privacy.protection.crypto import email_index
from privacy.registry import declarations as registry
from privacy.registry.hooks import hold_targets


def subject_filter(entry: registry.Entry, *, user=None, email: str = "") -> Q | None:
    """The rows of `entry.model` that belong to this person, or None if the model has no
    link to people we can follow (e.g. Django sessions)."""
    q = Q(pk__in=[])
    linked = False
    if user is not None and entry.subject:
        q |= Q(pk=user.pk) if entry.subject == "self" else Q(**{entry.subject: user})
        linked = True
    if email and entry.guest_index:
        q |= Q(**{entry.guest_index: email_index(email)})
        linked = True
    return q if linked else None


def subject_queryset(entry: registry.Entry, *, user=None, email: str = "") -> QuerySet | None:
    q = subject_filter(entry, user=user, email=email)
    if q is None:
        return None
    return entry.model._base_manager.filter(q).order_by("pk")


@dataclass(frozen=True)
class HoldShown:
    """What a person is told about a hold on their records: never the investigation's details."""

    kind: str
    covers: str
    legal_basis: str
    until: object  # datetime


def legal_holds_for(user) -> list[HoldShown]:
    targets = hold_targets()
    shown = []
    for hold in LegalHold.objects.active().filter(user=user).order_by("expires_at"):
        if hold.target == LegalHold.Target.PERSON:
            covers = "All your records"
        else:
            target = targets.get(hold.target)
            covers = f"Order {hold.reference}: {target.covers if target else 'the order'}"
        shown.append(HoldShown(kind=hold.get_kind_display(), covers=covers, legal_basis=hold.legal_basis,
                               until=hold.expires_at))
    return shown
