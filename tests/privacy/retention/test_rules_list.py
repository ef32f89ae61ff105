"""Retention has one list of rules: the run, the dry run and the table people read (policy page,
README) all come from it, so a rule cannot be applied without being shown, or shown and not applied."""
import pytest

from privacy.retention.purge import purge, rules, rules_for_display


@pytest.mark.promise("P13")
@pytest.mark.django_db
def test_every_rule_of_the_dry_run_is_displayed_and_every_displayed_rule_runs():
    run = purge(dry_run=True)
    shown = {row["key"] for row in rules_for_display()}
    assert set(run.counts) == shown
    assert {"accounts.inactive", "accounts.unverified", "audit.entries", "orders.delivered"} <= shown
    assert run.status == "finished" and not run.errors


@pytest.mark.django_db
def test_a_period_changed_in_settings_shows_where_it_applies(settings):
    settings.PRIVACY_RETENTION_DAYS = {"accounts.inactive": 400, "orders.delivered": 10}
    days = {row["key"]: row["days"] for row in rules_for_display()}
    assert days["accounts.inactive"] == 400 and days["orders.delivered"] == 10
    assert {rule.key: rule.period.days for rule in rules()} == days


def test_no_two_rules_share_a_key():
    keys = [rule.key for rule in rules()]
    assert len(keys) == len(set(keys))
