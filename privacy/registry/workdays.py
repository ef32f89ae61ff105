"""Working days (Monday to Friday, less the configured holidays): the legal calendar. The
policy's notice period and the requests' legal clock both count them, so both ask this module.
Holidays come from the setting PRIVACY_HOLIDAYS (ISO dates, e.g. "2026-12-25"); a wrong entry
is ignored rather than stopping the clock. Imports nothing of privacy."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings


def holidays() -> frozenset[date]:
    days = set()
    for item in getattr(settings, "PRIVACY_HOLIDAYS", ()):
        try:
            days.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            continue
    return frozenset(days)


def is_working_day(day: date, off: frozenset[date] | None = None) -> bool:
    return day.weekday() < 5 and day not in (holidays() if off is None else off)


def add_working_days(day: date, n: int) -> date:
    off = holidays()
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day, off):
            n -= 1
    return day


def working_days_between(start: datetime, end: datetime) -> int:
    off = holidays()
    day, n, last = start.date(), 0, end.date()
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day, off):
            n += 1
    return n
