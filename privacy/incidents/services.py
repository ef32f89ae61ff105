"""Breach incidents (P22): the affected people are found by a query over the registry (every
model holding the named data categories), notified in plain language, and each step is dated."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from privacy.models import AffectedPerson, Incident
from privacy.processors.disclosure import send_personal_email
from privacy.protection.crypto import email_index, normalise_email
from privacy.registry import declarations as registry


def _holds(entry: registry.Entry, categories: set[str]) -> bool:
    return bool({c.value for c in entry.categories()} & categories)


def affected_query(categories: list[str]) -> dict[str, str]:
    """email_index → email of everyone holding data of these categories (accounts and guests)."""
    User = get_user_model()
    wanted = set(categories)
    user_ids: set[int] = set()
    guests: dict[str, str] = {}
    for entry in registry.entries():
        if not _holds(entry, wanted):
            continue
        qs = entry.model._base_manager.all()
        if entry.subject == "self":
            user_ids.update(qs.values_list("pk", flat=True))
        elif entry.subject:
            user_ids.update(i for i in qs.values_list(f"{entry.subject}_id", flat=True) if i)
        email_field = next((n for n, p in entry.fields.items() if p.category == registry.DataCategory.CONTACT
                            and isinstance(entry.model._meta.get_field(n), models.EmailField)), None)
        if entry.guest_index and email_field and entry.subject and "__" not in entry.guest_index:
            for address in qs.filter(**{f"{entry.subject}__isnull": True}).values_list(email_field, flat=True):
                if address:
                    guests.setdefault(email_index(address), address)
    people = {email_index(e): e for e in User.objects.filter(pk__in=user_ids).values_list("email", flat=True)}
    for index, address in guests.items():
        people.setdefault(index, address)
    return people


@transaction.atomic
def incident_select_affected(*, incident: Incident) -> int:
    User = get_user_model()
    people = affected_query(incident.categories)
    # Accounts hold canonical emails; a guest's address is matched in the same form.
    wanted = {normalise_email(e) for e in people.values()}
    users = {email_index(e): pk for pk, e in User.objects.filter(email__in=wanted).values_list("pk", "email")}
    existing = set(incident.affected.values_list("email_index", flat=True))
    AffectedPerson.objects.bulk_create(
        AffectedPerson(incident=incident, user_id=users.get(index), email=address, email_index=index)
        for index, address in people.items() if index not in existing)
    return incident.affected.count()


def incident_notify(*, incident_id: int, batch_size: int = 200) -> int:
    """Email affected people not yet told; resumable (each person is stamped when emailed)."""
    incident = Incident.objects.get(pk=incident_id)
    labels = [registry.DataCategory(c).label for c in incident.categories if c in registry.DataCategory.values]
    sent = 0
    while batch := list(incident.affected.filter(notified_at__isnull=True)[:batch_size]):
        for person in batch:
            body = render_to_string("privacy/email/incident.txt", {"shop_name": settings.SHOP_NAME,
                "incident": incident, "categories": labels, "contact": settings.SHOP_PRIVACY_CONTACT})
            send_personal_email(
                to=person.email, subject=f"Important: a security incident concerning your data "
                f"({incident.detected_at:%d %B %Y})", text=body, fields=["user.email"],
                subject_user_id=person.user_id, guest_index=person.email_index, reference=f"incident {incident.pk}")
            AffectedPerson.objects.filter(pk=person.pk).update(notified_at=timezone.now())
            sent += 1
    Incident.objects.filter(pk=incident.pk, users_notified_at__isnull=True).update(users_notified_at=timezone.now())
    return sent


def incident_record_regulator_notified(*, incident: Incident) -> None:
    """Dates the regulator's notification once; a second click keeps the first date."""
    Incident.objects.filter(pk=incident.pk, regulator_notified_at__isnull=True).update(
        regulator_notified_at=timezone.now())


def clock(incident: Incident, now=None) -> str:
    now = now or timezone.now()
    if incident.regulator_notified_at:
        late = incident.regulator_notified_at > incident.regulator_deadline
        return f"regulator notified{' (late)' if late else ''} {incident.regulator_notified_at:%d %b %H:%M}"
    left = incident.regulator_deadline - now
    hours = int(left.total_seconds() // 3600)
    return f"⚠ OVERDUE by {-hours} h" if hours < 0 else f"{hours} h left to notify the regulator"
