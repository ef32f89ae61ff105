"""Data that fades (P1, P13, P28): the decay steps the apps declare are applied by the purge to
real rows of various ages, each step changes exactly its fields of exactly the rows it is due
for, holds postpone it, a dry run changes nothing, and a repeated run changes nothing twice."""
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.db import connection
from django.utils import timezone

from orders.models import Order, ReturnRequest
from privacy.registry import outward_postcode
from privacy.retention.purge import Interrupted, purge, rules_for_display
from privacy.rights.restriction import restriction_start
from shop.models import Address, User
from tests.factories import OrderFactory, UserFactory
from tests.legal_holds import hold_on

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P1"), pytest.mark.promise("P13"), pytest.mark.promise("P28")]

PERSON = ("email", "shipping_name", "shipping_line1", "shipping_line2", "shipping_city", "shipping_postal_code",
          "shipping_region", "shipping_country", "phone", "user_id", "anonymised_at", "status", "total")


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def delivered(days: float, **kw) -> Order:
    """An order delivered `days` ago (paid and created a week before)."""
    return OrderFactory(status=Order.Status.DELIVERED, created_at=ago(days + 7), paid_at=ago(days + 7),
                        delivered_at=ago(days), phone="+44 20 7946 0000", shipping_line2="Flat 3",
                        shipping_postal_code="SW1A 1AA", **kw)


def snapshot(order: Order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in PERSON}


def test_a_delivered_orders_phone_goes_when_the_return_window_closes_and_nothing_else_changes():
    young, old = delivered(89), delivered(91)
    before_young, before_old = snapshot(young), snapshot(old)
    run = purge()
    after_young, after_old = snapshot(young), snapshot(old)
    assert after_young == before_young  # 89 days: still in the return window, and not shortened
    assert after_old["phone"] == ""
    assert after_old["shipping_line1"] == "" and after_old["shipping_line2"] == ""
    assert after_old["shipping_postal_code"] == "SW1A"
    unchanged = {k: v for k, v in after_old.items() if k not in {"phone", "shipping_line1", "shipping_line2",
                                                                 "shipping_postal_code"}}
    assert unchanged == {k: before_old[k] for k in unchanged}  # name, city, country, email, user stay
    assert run.counts["orders.phone_after_returns"] == {"action": "removed", "count": 1, "postponed": {}}
    assert run.counts["orders.postcode_after_refunds"]["count"] == 1
    assert run.counts["orders.street_after_refunds"]["count"] == 1


def test_an_open_return_keeps_the_street_and_postcode_but_not_the_phone():
    order = delivered(100)
    ReturnRequest.objects.create(order=order, reason="Too small")
    run = purge()
    order.refresh_from_db()
    assert order.phone == ""
    assert (order.shipping_line1, order.shipping_postal_code) == ("12 Analytical Row", "SW1A 1AA")
    assert run.counts["orders.street_after_refunds"] == {"action": "removed", "count": 0,
                                                         "postponed": {"open return": 1}}
    ReturnRequest.objects.filter(order=order).update(status=ReturnRequest.Status.REFUNDED, refunded_at=timezone.now())
    purge()
    order.refresh_from_db()
    assert (order.shipping_line1, order.shipping_postal_code) == ("", "SW1A")


def test_a_legal_hold_or_a_restriction_postpones_decay_for_what_it_covers_only():
    held, restricted, free = delivered(95), delivered(95, user=UserFactory()), delivered(95)
    hold_on(order=held)
    restriction_start(user=restricted.user)
    run = purge()
    for order in (held, restricted):
        order.refresh_from_db()
        assert (order.phone, order.shipping_line1, order.shipping_postal_code) == (
            "+44 20 7946 0000", "12 Analytical Row", "SW1A 1AA")
    free.refresh_from_db()
    assert (free.phone, free.shipping_line1, free.shipping_postal_code) == ("", "", "SW1A")
    assert run.counts["orders.phone_after_returns"]["postponed"] == {"restriction": 1, "legal hold": 1}


def test_undelivered_and_anonymised_orders_are_not_touched():
    paid = OrderFactory(status=Order.Status.PAID, created_at=ago(200), paid_at=ago(200), phone="+1 555")
    before = snapshot(paid)
    purge()
    assert snapshot(paid) == before


def test_dry_run_counts_and_changes_nothing():
    order = delivered(95)
    session_user = UserFactory()
    session = UserSession.objects.create(user=session_user, ip="203.0.113.0", session_key="k" * 32,
                                         user_agent="Firefox on Linux", last_seen_at=ago(40))
    before = snapshot(order)
    run = purge(dry_run=True)
    assert snapshot(order) == before
    session.refresh_from_db()
    assert session.ip == "203.0.113.0"
    assert run.counts["orders.phone_after_returns"]["count"] == 1
    assert run.counts["network.sessions_ip_dropped"]["count"] == 1


def test_the_purge_stores_the_faded_values_encrypted():
    order = delivered(95)
    purge()
    with connection.cursor() as cursor:
        cursor.execute("SELECT shipping_postal_code FROM orders_order WHERE id = %s", [order.pk])
        stored = cursor.fetchone()[0]
    assert b"SW1A" not in bytes(stored)
    order.refresh_from_db()
    assert order.shipping_postal_code == "SW1A"


def test_a_session_network_address_widens_after_a_week_and_goes_after_30_days():
    user = UserFactory()

    def session(days, ip):
        return UserSession.objects.create(user=user, ip=ip, session_key=f"{days:0>32}", user_agent="Firefox on Linux",
                                          last_seen_at=ago(days))
    fresh, week, month, v6 = session(3, "203.0.113.0"), session(8, "203.0.113.0"), session(31, "198.51.100.0"), \
        session(10, "2001:db8:1234::")
    run = purge()
    for s in (fresh, week, month, v6):
        s.refresh_from_db()
    assert fresh.ip == "203.0.113.0"
    assert week.ip == "203.0.0.0" and v6.ip == "2001:db8::"
    assert month.ip == "0.0.0.0"
    assert UserSession.objects.count() == 4 and month.user_agent == "Firefox on Linux"  # the row stays
    assert run.counts["network.sessions_ip_wider"]["count"] == 3  # the month-old one widened, then dropped
    assert run.counts["network.sessions_ip_dropped"]["count"] == 1


def test_return_reasons_go_30_days_after_the_refund():
    order = delivered(20)
    old = ReturnRequest.objects.create(order=order, reason="Wrong colour", status=ReturnRequest.Status.REFUNDED,
                                       refunded_at=ago(31))
    recent = ReturnRequest.objects.create(order=order, reason="Too big", status=ReturnRequest.Status.REFUNDED,
                                          refunded_at=ago(29))
    purge()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.reason == "" and recent.reason == "Too big" and old.status == ReturnRequest.Status.REFUNDED


def test_phone_numbers_of_accounts_idle_a_year_are_removed():
    idle = UserFactory(phone="+44 7700 900000", last_login=ago(366), name="Idle Ida")
    active = UserFactory(phone="+44 7700 900001", last_login=ago(10))
    Address.objects.create(user=idle, name="Ida", line1="1 Road", city="Leeds", country="GB", phone="+44 1")
    Address.objects.create(user=active, name="Al", line1="2 Road", city="Leeds", country="GB", phone="+44 2")
    purge()
    idle.refresh_from_db()
    active.refresh_from_db()
    assert (idle.phone, idle.name) == ("", "Idle Ida") and active.phone == "+44 7700 900001"
    assert dict(Address.objects.values_list("user_id", "phone")) == {idle.pk: "", active.pk: "+44 2"}
    assert User.objects.count() == 2


def test_a_purge_killed_mid_step_resumes_and_a_second_run_changes_nothing():
    orders = [delivered(95 + i) for i in range(5)]
    with pytest.raises(Interrupted):
        purge(batch_size=2, stop_after_batches=1)
    purge(batch_size=2)
    assert {(snapshot(o)["phone"], snapshot(o)["shipping_postal_code"]) for o in orders} == {("", "SW1A")}
    again = purge(batch_size=2)
    assert again.counts["orders.phone_after_returns"]["count"] == 0
    assert again.counts["orders.postcode_after_refunds"]["count"] == 0


def test_every_step_is_in_the_table_people_read():
    shown = {row["key"]: row for row in rules_for_display()}
    assert shown["orders.postcode_after_refunds"]["then"] == "shortened to its district"
    assert shown["orders.phone_after_returns"]["days"] == 90
    assert shown["network.sessions_ip_dropped"]["days"] == 30


@pytest.mark.parametrize("value", ["SW1A 1AA", "M1 1AE", "75008", "12345-6789", "K1A 0B1", "EC1A1BB", ""])
def test_shortening_a_postcode_twice_changes_nothing(value):
    assert outward_postcode(outward_postcode(value)) == outward_postcode(value)
    assert len(outward_postcode(value)) <= 4


# --- what the person and the policy page see -------------------------------------------------

def test_the_privacy_page_says_what_happens_next_to_each_detail_and_when(client):
    from django.urls import reverse
    from django.utils.formats import date_format

    user, other = UserFactory(), UserFactory()
    recent = delivered(10, user=user)
    faded = delivered(100, user=user)
    returning = delivered(5, user=user)
    ReturnRequest.objects.create(order=returning, reason="Too small")
    held = delivered(20, user=user)
    hold_on(order=held)
    theirs = delivered(10, user=other)
    purge()  # `faded` loses its phone, street and full postcode
    client.force_login(user)
    page = client.get(reverse("privacy:dashboard")).content.decode()
    assert "What happens next to your data" in page
    due = date_format(timezone.localtime(recent.delivered_at + timedelta(days=90)), "j F Y")
    assert f"Your phone number on order #{recent.reference} will be <strong>removed</strong> on <strong>{due}</strong>" in page
    assert f"Your postcode on order #{recent.reference} will be <strong>shortened to its district</strong> on " \
           f"<strong>{due}</strong>" in page
    assert f"Your street address on order #{returning.reference} will be <strong>removed</strong> once the open " \
           "return ends" in page
    assert f"on order #{held.reference} will be <strong>removed</strong> once the legal hold ends" in page
    assert f"order #{faded.reference}" not in page  # nothing left to fade before its anonymisation
    assert theirs.reference not in page


def test_the_page_names_a_sessions_network_address_and_when_it_goes(client):
    from django.urls import reverse
    from django.utils.formats import date_format

    user = UserFactory()
    UserSession.objects.create(user=user, ip="203.0.113.0", session_key="s" * 32, user_agent="Firefox on Linux",
                               last_seen_at=ago(3))
    client.force_login(user)
    page = client.get(reverse("privacy:dashboard")).content.decode()
    day = date_format(timezone.localtime(ago(3)), "j F Y")
    widened = date_format(timezone.localtime(ago(3) + timedelta(days=7)), "j F Y")
    assert f"Your network address on the sign-in session last used on {day} will be <strong>shortened to a " \
           f"wider network (/16, /32)</strong> on <strong>{widened}</strong>" in page


def test_the_list_costs_the_same_queries_for_one_order_or_many():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy.retention.fading import fading_for

    user = UserFactory()
    delivered(10, user=user)
    with CaptureQueriesContext(connection) as one:
        assert len(fading_for(user)) == 3  # phone, street, postcode
    for days in (11, 12, 13, 14, 15):
        delivered(days, user=user)
    with CaptureQueriesContext(connection) as six:
        assert len(fading_for(user)) == 18
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_policy_page_lists_each_step_with_its_trigger(client):
    from django.urls import reverse

    page = client.get(reverse("privacy:policy")).content.decode()
    assert "A delivered order&#x27;s phone number is removed when the return window closes" in page or \
        "A delivered order's phone number is removed when the return window closes" in page
    assert "90 days after delivery, when the return window closes" in page
    assert "30 days after the session was last used" in page and "shortened to its district" in page


def test_the_readme_retention_table_names_every_rule_and_step():
    import re
    from pathlib import Path

    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Retention", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", section))
    assert {row["key"] for row in rules_for_display()} <= listed


def test_an_open_access_request_keeps_the_order_as_it_is_until_answered():
    from privacy.rights.subject_requests import request_open

    asked = delivered(95, user=UserFactory())
    request_open(kind="access", user=asked.user, notify=False)
    run = purge()
    asked.refresh_from_db()
    assert (asked.phone, asked.shipping_postal_code) == ("+44 20 7946 0000", "SW1A 1AA")
    assert run.counts["orders.phone_after_returns"]["postponed"] == {"open privacy request": 1}


def test_a_drop_step_deletes_whole_rows_in_batches_and_a_dry_run_only_counts(monkeypatch):
    """No app declares a Drop today; one declared here on browsing history proves the purge's path."""
    from privacy.registry import Decay, DecayTrigger, Drop, entry_for
    from shop.models import BrowsingEvent
    from tests.factories import ProductFactory

    entry = entry_for(BrowsingEvent)
    monkeypatch.setattr(entry, "decay", (Decay("test.browsing_drop", fields=(), action=Drop(), after="at",
                                               age=timedelta(days=10), trigger=DecayTrigger.LAST_SEEN,
                                               item="product view", description="test"),))
    user, product = UserFactory(), ProductFactory()
    old = [BrowsingEvent.objects.create(user=user, product=product, at=ago(11 + i)) for i in range(5)]
    new = BrowsingEvent.objects.create(user=user, product=product, at=ago(9))
    dry = purge(dry_run=True)
    assert dry.counts["test.browsing_drop"] == {"action": "delete", "count": 5, "postponed": {}}
    assert BrowsingEvent.objects.count() == 6
    run = purge(batch_size=2)
    assert run.counts["test.browsing_drop"]["count"] == 5
    assert list(BrowsingEvent.objects.values_list("pk", flat=True)) == [new.pk]
    assert not BrowsingEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
