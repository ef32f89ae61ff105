"""Working days (Monday to Friday): the legal calendar. The policy's notice period and the
requests' legal clock both count them, so both ask this module. Imports nothing of privacy."""
from __future__ import annotations

from datetime import date, datetime, timedelta


def add_working_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def working_days_between(start: datetime, end: datetime) -> int:
    day, n, last = start.date(), 0, end.date()
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n += 1
    return n
