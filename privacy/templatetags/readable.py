"""Values as people read them, the one way every page and email shows them.

`when` gives a moment as "1 December 2026, 20:58 UTC" (always UTC, said so, never seconds or
microseconds) and a date as "1 December 2026"; `day` gives the date alone; `readable` gives any
stored value in words: yes/no, amounts in dollars, times as `when`, nothing as a dash.

    {% load readable %}  {{ order.created_at|when }}  {{ hold.expires_at|day }}  {{ value|readable }}
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from django import template

register = template.Library()

DASH = "—"


@register.filter
def day(value) -> str:
    """"1 December 2026"; an empty string for no value."""
    if not isinstance(value, date):
        return ""
    if isinstance(value, datetime):
        value = _utc(value)
    return f"{value.day} {value:%B %Y}"


@register.filter
def when(value) -> str:
    """"1 December 2026, 20:58 UTC" for a moment, "1 December 2026" for a date, "" for no value."""
    if isinstance(value, datetime):
        value = _utc(value)
        return f"{value.day} {value:%B %Y}, {value:%H:%M} UTC"
    return day(value)


@register.filter
def readable(value) -> str:
    """Any stored value in words, for a definition list or a table cell."""
    if value is None or value == "" or value == [] or value == {}:
        return DASH
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return when(value)
    if isinstance(value, Decimal):
        return f"${value:,.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo is not None else value
