"""The privacy page as a person reads it: their data in parts named for what they are, values
labelled in words, dates as people write them, and nobody else's data."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse

from orders.models import Order
from privacy.registry import declarations as registry
from privacy.rights.dashboard import GROUPS, privacy_page
from tests.e2e.readable import raw_words
from tests.factories import OrderFactory, UserFactory
from tests.privacy.rights.sample_person import VALUES

pytestmark = pytest.mark.django_db

PARTS = ["Your account", "Your orders", "Your addresses", "Your messages", "Where you are signed in",
         "Your consents", "Who received your data", "When our staff looked at your records"]


def main_text(html: str) -> str:
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.promise("P17")
def test_the_page_shows_my_data_in_parts_named_for_what_they_are(client, rich_user):
    client.force_login(rich_user)
    html = client.get(reverse("privacy:dashboard")).content.decode()
    text = main_text(html)
    for part in PARTS:
        assert f">{part}</h2>" in html, part
    for value in (VALUES["name"], VALUES["email"], VALUES["line1"], VALUES["city"], VALUES["support"],
                  VALUES["return_reason"], "Visa ending 4242", "Flickering lamp"):
        assert value in text, value
    order = rich_user.orders.first()
    assert f"Order {order.reference}" in text
    assert f"{order.created_at.day} {order.created_at:%B %Y}, {order.created_at:%H:%M} UTC" in text
    assert "Why:" in text and "Because:" in text and "How long:" in text
    assert "<details" in html and "More about this data" in text


def test_nothing_reads_like_the_database(client, rich_user):
    """No raw timestamps, class names, "Ip", "(0 days)", token or blind-index values."""
    client.force_login(rich_user)
    text = main_text(client.get(reverse("privacy:dashboard")).content.decode())
    assert raw_words(text) == []
    assert "c" * 32 not in text and "i" * 64 not in text and "t" * 32 not in text  # consent id, index, token
    assert "<table" not in client.get(reverse("privacy:dashboard")).content.decode()


def test_another_persons_data_is_not_on_my_page(client, rich_user):
    other = UserFactory(name="Grace Hopper")
    OrderFactory(user=other, shipping_name="Grace Hopper", shipping_city="Arlington")
    client.force_login(rich_user)
    text = main_text(client.get(reverse("privacy:dashboard")).content.decode())
    assert "Grace Hopper" not in text and "Arlington" not in text


def test_every_registered_kind_of_record_i_have_is_on_the_page(rich_user):
    """Driven by the registry: each kind of record the person has shows in its part, and a kind the
    page has no words for would still show, under "Other records"."""
    from privacy.rights.dashboard import NESTED
    from privacy.rights.subjects import subject_queryset

    part_of = {label: key for key, _, _, labels in GROUPS for label in labels}
    sections = {s.key: s for s in privacy_page(user=rich_user)}
    held = [e for e in registry.entries() if (qs := subject_queryset(e, user=rich_user)) is not None and qs.exists()]
    assert len(held) >= 12
    for entry in held:
        section = sections[part_of.get(entry.label, "other")]
        records = section.records if entry.label not in NESTED else [p for r in section.records for p in r.parts]
        assert records, entry.label


def test_the_page_costs_the_same_queries_for_3_or_60_orders(client, rich_user, django_assert_max_num_queries):
    client.force_login(rich_user)
    client.get(reverse("privacy:dashboard"))  # warm caches (site, policy)
    with django_assert_max_num_queries(60) as few:
        client.get(reverse("privacy:dashboard"))
    for _ in range(57):
        OrderFactory(user=rich_user, status=Order.Status.COMPLETED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("privacy:dashboard")).content.decode()
    assert "The 50 most recent are shown here; your download has them all." in html


@pytest.mark.parametrize("value, shown", [
    (datetime(2026, 12, 1, 20, 58, 2, 6762, tzinfo=timezone.utc), "1 December 2026, 20:58 UTC"),
    (datetime(2026, 12, 1, 21, 58, 2, tzinfo=ZoneInfo("Europe/Paris")), "1 December 2026, 20:58 UTC"),
    (datetime(2026, 12, 1, 20, 58).date(), "1 December 2026"),
    (None, ""),
])
def test_one_filter_writes_dates_as_people_read_them(value, shown):
    assert Template("{% load readable %}{{ v|when }}").render(Context({"v": value})) == shown


def test_readable_puts_stored_values_in_words():
    from decimal import Decimal
    t = Template("{% load readable %}{{ a|readable }}/{{ b|readable }}/{{ c|readable }}/{{ d|readable }}")
    assert t.render(Context({"a": True, "b": Decimal("1234.5"), "c": None,
                             "d": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc) + timedelta(0)})) \
        == "Yes/$1,234.50/—/2 January 2026, 03:04 UTC"
