"""Working days skip weekends and the configured holidays (P18); dates are relative to today."""
from datetime import date, datetime, time, timedelta

import pytest

from privacy.registry.workdays import add_working_days, working_days_between


def _next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


@pytest.mark.promise("P18")
def test_weekends_are_skipped():
    friday = _next_monday() + timedelta(days=4)
    assert add_working_days(friday, 1) == friday + timedelta(days=3)


@pytest.mark.promise("P18")
def test_a_configured_holiday_is_skipped_and_a_bad_entry_is_ignored(settings):
    monday = _next_monday()
    assert add_working_days(monday, 1) == monday + timedelta(days=1)
    settings.PRIVACY_HOLIDAYS = [(monday + timedelta(days=1)).isoformat(), "not a date"]
    assert add_working_days(monday, 1) == monday + timedelta(days=2)
    start = datetime.combine(monday, time(9))
    assert working_days_between(start, start + timedelta(days=7)) == 4  # five, less the holiday
