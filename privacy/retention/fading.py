"""What happens next to a person's data, and when (P1, P13, P28): for each of their records that
a decay step or a retention rule will change, the next change of each field, read from the same
declarations the purge applies, so the privacy page cannot promise what the purge does not do.

A record under a hold (legal hold, restriction, open return) is shown as waiting, with the hold's
label, instead of a date. Queries: one per declared step or rule, plus one per hold it names —
never one per record."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from privacy.registry import declarations as registry
from privacy.retention.purge import hold_filters

ROWS_PER_MODEL = 100  # the page shows the next changes; the download lists every record


@dataclass(frozen=True)
class Fading:
    """One coming change: "Your phone number on order #AB12 will be removed on 14 January 2027"."""

    item: str  # "phone number"
    record: str  # "order #AB12CD34EF56"
    action: str  # "removed", "shortened to its district", "anonymised", "deleted"
    on: datetime | None  # None while a hold keeps it
    trigger: str  # "after delivery, when the return window closes"
    waiting_for: str = ""  # the hold's label ("open return", "legal hold")


def _value_at(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def _record(entry: registry.Entry, obj) -> str:
    """The record in the person's words: "order #AB12…", "your account", "the sign-in session last
    used on 3 December 2026", "address “Home”"."""
    reference = getattr(obj, "reference", "")
    if reference:
        return f"{entry.verbose_name} #{reference}"
    if entry.subject == "self":
        return "your account"
    seen = getattr(obj, "last_seen_at", None)
    if seen is not None:
        return f"the sign-in session last used on {date_format(timezone.localtime(seen), 'j F Y')}"
    label = getattr(obj, "label", "")
    return f"{entry.verbose_name} “{label}”" if isinstance(label, str) and label else f"your {entry.verbose_name}"


def _held(entry: registry.Entry, rows, holds: tuple[str, ...]) -> dict[int, str]:
    """Ids of `rows` held by one of `holds` (legal holds always count), with the hold's label."""
    found: dict[int, str] = {}
    for label, q in hold_filters(entry, holds).items():
        for pk in rows.filter(q).values_list("pk", flat=True):
            found.setdefault(pk, label)
    return found


def fading_for(user) -> list[Fading]:
    """The person's coming changes, soonest first; held ones last. Invariant: a change is listed
    only if the purge would make it (a value already shortened or removed is not listed again)."""
    if user is None or not user.is_authenticated:
        return []
    soonest: dict[tuple, Fading] = {}
    for entry in registry.entries():
        if not entry.decay or not entry.subject:
            continue
        mine = entry.model._base_manager.filter(Q(pk=user.pk) if entry.subject == "self" else Q(**{entry.subject: user}))
        for step in entry.decay:
            rows = mine.filter(step.when, **{f"{step.after}__isnull": False})
            related = step.after.rsplit("__", 1)[0] if "__" in step.after else ""
            objs = list((rows.select_related(related) if related else rows).order_by("-pk")[:ROWS_PER_MODEL])
            pending = [o for o in objs if isinstance(step.action, registry.Drop)
                       or any(step.apply(getattr(o, n)) != getattr(o, n) for n in step.fields)]
            if not pending:
                continue
            held = _held(entry, rows.filter(pk__in=[o.pk for o in pending]), step.holds)
            for obj in pending:
                due = _value_at(obj, step.after) + step.period
                shown = Fading(item=step.item, record=_record(entry, obj), action=step.action.label,
                               on=None if obj.pk in held else due, trigger=step.trigger.label,
                               waiting_for=held.get(obj.pk, ""))
                key = (entry.label, obj.pk, step.fields)
                current = soonest.get(key)
                if current is None or (shown.on or datetime.max.replace(tzinfo=due.tzinfo)) < (
                        current.on or datetime.max.replace(tzinfo=due.tzinfo)):
                    soonest[key] = shown
    far = datetime.max
    return sorted(soonest.values(), key=lambda f: (f.on is None, f.on.replace(tzinfo=None) if f.on else far, f.record))
