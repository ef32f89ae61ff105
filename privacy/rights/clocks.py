"""A clock per jurisdiction (P18): when a request must be acknowledged and answered depends on
where the person lives. Our policy's clock applies to everyone (a target of 15 working days,
never later than 30 working days, and the shop's PRIVACY_REQUEST_DAYS calendar days); the GDPR's
(one calendar month, extendable by two more with a recorded reason) applies in the EU, the EEA
and the UK; the CCPA/CPRA's (acknowledge within 10 business days, answer within 45 calendar
days, extendable by 45 with notice) in California. The strictest applicable clock governs:
each deadline is the earliest any applicable clock sets, and the rule that set it is recorded.

Working days skip weekends and settings.PRIVACY_HOLIDAYS (privacy.registry.workdays). A
deadline keeps the time of day the request arrived, so "one month" is to the minute."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from django.conf import settings
from django.utils import timezone

from privacy.registry.workdays import add_working_days

# GDPR: the 27 EU states, the EEA's Iceland, Liechtenstein and Norway, and the UK's own GDPR.
GDPR_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB".split())
CALIFORNIA = "US-CA"


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (31 Jan -> 28 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Clock:
    """One rule's deadlines, each a function of the day the request arrived (None: no such deadline)."""

    key: str
    name: str  # shown to staff and to the person
    answer: Callable[[date], date]
    extended: Callable[[date], date]  # the latest an answer may be put off to, with a reason
    acknowledge: Callable[[date], date] | None = None
    target: Callable[[date], date] | None = None


def _policy_answer(day: date) -> date:
    return min(day + timedelta(days=settings.PRIVACY_REQUEST_DAYS),
               add_working_days(day, settings.PRIVACY_REQUEST_MAX_WORKING_DAYS))


POLICY = Clock("policy", "Our privacy policy: 15 working days as a target, 30 working days at most",
               answer=_policy_answer,
               extended=lambda day: add_working_days(day, settings.PRIVACY_REQUEST_MAX_WORKING_DAYS),
               target=lambda day: add_working_days(day, settings.PRIVACY_REQUEST_TARGET_WORKING_DAYS))
GDPR = Clock("gdpr", "GDPR: one month, extendable by two more months with a reason",
             answer=lambda day: add_months(day, 1), extended=lambda day: add_months(day, 3))
CCPA = Clock("ccpa", "CCPA/CPRA: acknowledged within 10 business days, answered within 45 days, "
                     "extendable by 45 days with notice",
             answer=lambda day: day + timedelta(days=45), extended=lambda day: day + timedelta(days=90),
             acknowledge=lambda day: add_working_days(day, 10))
CLOCKS = {c.key: c for c in (POLICY, GDPR, CCPA)}


def clocks_for(jurisdiction: str) -> list[Clock]:
    """The clocks that apply to someone living in `jurisdiction` (ISO country, or "US-CA"); the
    law's clock first, so that on a tie the law is named as the governing rule."""
    place = (jurisdiction or "").upper()
    if place in GDPR_COUNTRIES:
        return [GDPR, POLICY]
    if place == CALIFORNIA:
        return [CCPA, POLICY]
    return [POLICY]


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime | None
    answer_by: datetime
    answer_limit: datetime  # the latest an extension may reach
    target_by: datetime
    clock: str  # the key of the clock that sets answer_by
    limit_clock: str  # the key of the clock that sets answer_limit


def _at(day: date, received_at: datetime) -> datetime:
    local = timezone.localtime(received_at)
    return timezone.make_aware(datetime.combine(day, local.time().replace(tzinfo=None)), local.tzinfo)


def _earliest(received_at: datetime, clocks: list[Clock], pick: Callable[[Clock], Callable | None]) \
        -> tuple[datetime, Clock] | None:
    day = timezone.localtime(received_at).date()
    found = [(_at(fn(day), received_at), clock) for clock in clocks if (fn := pick(clock)) is not None]
    return min(found, key=lambda pair: pair[0]) if found else None  # min keeps the first of equals: the law


def deadlines_for(*, received_at: datetime, jurisdiction: str) -> Deadlines:
    """Every deadline of a request received at `received_at` from someone in `jurisdiction`.
    Invariant: each is the earliest that any applicable clock sets (the strictest governs)."""
    clocks = clocks_for(jurisdiction)
    answer_by, governing = _earliest(received_at, clocks, lambda c: c.answer)
    limit, limiting = _earliest(received_at, clocks, lambda c: c.extended)
    acknowledged = _earliest(received_at, clocks, lambda c: c.acknowledge)
    target, _ = _earliest(received_at, clocks, lambda c: c.target)
    return Deadlines(acknowledge_by=acknowledged[0] if acknowledged else None, answer_by=answer_by,
                     answer_limit=limit, target_by=min(target, answer_by), clock=governing.key,
                     limit_clock=limiting.key)
