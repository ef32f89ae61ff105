"""Staff statistics (P9): what a staff member reads, and what no figure on the page, in a table or
in a chart, can give away: a figure resting on fewer than k people, directly or by subtraction."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import analytics
from orders.models import Order, OrderLine
from tests.factories import CategoryFactory, OrderFactory, ProductFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def buy(product, *, user=None, email=None, total="10.00", quantity=1, ago=timedelta(0), status=Order.Status.PAID):
    email = email or (user.email if user else None)
    extra = {"email": email} if email else {}
    order = OrderFactory(user=user, status=status, paid_at=timezone.now() - ago, subtotal=Decimal(total),
                         total=Decimal(total), shipping_name="Secret Buyer", **extra)
    OrderLine.objects.filter(order=order).update(product=product, product_name=product.name, quantity=quantity,
                                                 unit_price=Decimal(total) / quantity, line_total=Decimal(total))
    return order


def crowd(product, people: int, **kw):
    """`people` different buyers: half registered customers, half guests."""
    for i in range(people):
        buy(product, user=UserFactory() if i % 2 else None, **kw)


def statistics_page(client):
    client.force_login(staff_user("Catalogue"))
    page = client.get(reverse("admin:orders_statistics"))
    assert page.status_code == 200
    return page, page.content.decode()


def chart_titles(body: str) -> list[str]:
    return re.findall(r"<rect[^>]*><title>([^<]*)</title>", body)


@pytest.fixture
def shelves(db):
    return {name: ProductFactory(name=name, category=CategoryFactory(name=cat), price="10.00")
            for name, cat in (("Walnut Desk Lamp", "Lighting"), ("Blue Vase", "Home"), ("Rare Globe", "Maps"))}


@pytest.mark.promise("P9")
def test_one_buyer_of_a_product_on_a_day_is_visible_nowhere(client, shelves):
    crowd(shelves["Walnut Desk Lamp"], 6)
    crowd(shelves["Blue Vase"], 7)
    buy(shelves["Rare Globe"], email="globe.fan@example.com", total="777.77")
    page, body = statistics_page(client)
    for secret in ("Rare Globe", "Maps", "777.77", "globe.fan@example.com", "Secret Buyer"):
        assert secret not in body
    assert not [t for t in chart_titles(body) if "777" in t or "Globe" in t]
    assert [r["product_name"] for r in page.context["by_product"]] == ["Blue Vase"]
    assert {r["name"] for r in page.context["by_category"]} == {"Home"}
    assert "Products bought by fewer than 5 people are not listed" in body


@pytest.mark.promise("P9")
def test_subtracting_visible_figures_from_any_total_never_leaves_one_person(client, shelves):
    crowd(shelves["Walnut Desk Lamp"], 6)
    crowd(shelves["Blue Vase"], 7)
    buy(shelves["Rare Globe"], email="globe.fan@example.com", total="777.77")
    page, body = statistics_page(client)
    today = next(r for r in page.context["sales"]["rows"] if r["day"] == timezone.localdate())
    assert (today["hidden"], today["orders"], today["revenue"]) == (False, 14, Decimal("907.77"))
    globe = Decimal("777.77")
    # the day's total minus every visible category, product and best seller of that week/window:
    # what is left is never the one buyer's figure, it always includes at least 6 more people
    for table in ("by_category", "by_product"):
        rest = today["revenue"] - sum(r["revenue"] for r in page.context[table])
        assert rest != globe and rest == globe + Decimal("60.00")
    # the complement hidden with the Globe is the smallest group (the lamp, 6 people), not the vase
    assert "Walnut Desk Lamp" not in [r["product_name"] for r in page.context["by_product"]]
    assert [r["name"] for r in page.context["by_category"]] == ["Home"]


@pytest.mark.promise("P9")
def test_no_chain_of_subtractions_across_tables_gives_the_lone_buyer_away(client, shelves):
    """Days, products and categories are margins of one (day x product) table: whatever subset of
    the visible figures of any table is taken from the total, the lone buyer's figure never remains."""
    from itertools import combinations

    crowd(shelves["Blue Vase"], 5, ago=timedelta(days=1))
    crowd(shelves["Walnut Desk Lamp"], 6, total="30.00")
    crowd(shelves["Blue Vase"], 7, ago=timedelta(days=9), total="12.00")
    buy(shelves["Rare Globe"], email="globe.fan@example.com", total="777.77", ago=timedelta(days=3))
    page, body = statistics_page(client)
    total = page.context["sales"]["total"]["revenue"]
    assert total == Decimal("1091.77")  # 19 people: the total itself may be shown
    tables = {"days": [r["revenue"] for r in page.context["sales"]["rows"] if not r["hidden"] and r["orders"]],
              "products": [r["revenue"] for r in page.context["by_product"]],
              "categories": [r["revenue"] for r in page.context["by_category"]]}
    for name, figures in tables.items():
        for n in range(len(figures) + 1):
            for subset in combinations(figures, n):
                assert total - sum(subset) != Decimal("777.77"), (name, subset)
    assert "777.77" not in body and "Rare Globe" not in body


@pytest.mark.promise("P9")
def test_a_lone_day_is_fewer_than_k_and_the_period_total_does_not_give_it_away(client, shelves):
    crowd(shelves["Blue Vase"], 7, ago=timedelta(days=1))
    crowd(shelves["Walnut Desk Lamp"], 6)
    buy(shelves["Rare Globe"], email="globe.fan@example.com", total="777.77", ago=timedelta(days=2))
    page, body = statistics_page(client)
    rows = {r["day"]: r for r in page.context["sales"]["rows"]}
    lone = rows[timezone.localdate() - timedelta(days=2)]
    assert lone["hidden"] and lone["revenue"] is None and lone["orders"] is None
    total = page.context["sales"]["total"]
    visible = sum(r["revenue"] for r in rows.values() if not r["hidden"])
    assert total["revenue"] is None or total["revenue"] - visible != Decimal("777.77")
    hidden = [r for r in rows.values() if r["hidden"]]
    assert len(hidden) >= 2  # the lone day never stands alone behind a total
    assert "fewer than 5" in body and "777.77" not in body
    assert [t for t in chart_titles(body) if "fewer than 5 people" in t]
    assert not [t for t in chart_titles(body) if "777" in t]


@pytest.mark.promise("P9")
def test_people_are_counted_once_whatever_they_buy_and_however_they_sign_in(client, shelves):
    lamp = shelves["Walnut Desk Lamp"]
    regular = UserFactory()
    for _ in range(4):
        buy(lamp, user=regular)  # four orders, one person
    for _ in range(3):
        buy(lamp, email="same.guest@example.com")  # three guest orders, one person
    buy(lamp, email=regular.email)  # signed out, the same customer
    for _ in range(2):
        buy(lamp, user=UserFactory())
    page, _ = statistics_page(client)
    assert page.context["by_product"] == []  # 10 orders, but 4 people
    buy(lamp, email="fifth.person@example.com")
    page, _ = statistics_page(Client())
    assert [(r["product_name"], r["units"]) for r in page.context["by_product"]] == [("Walnut Desk Lamp", 11)]


@pytest.mark.promise("P9")
def test_k_is_a_setting(client, shelves, settings):
    settings.PRIVACY_STATS_MIN_PEOPLE = 2
    crowd(shelves["Blue Vase"], 2)
    crowd(shelves["Walnut Desk Lamp"], 3)
    buy(shelves["Rare Globe"])
    page, body = statistics_page(client)
    # the Globe (1 person) is hidden, and with it the smallest other line (the vase, 2 people)
    assert [r["product_name"] for r in page.context["by_product"]] == ["Walnut Desk Lamp"]
    assert "Rare Globe" not in body and "Products bought by fewer than 2 people are not listed" in body


@pytest.mark.promise("P9")
def test_page_views_under_k_are_not_shown(client, product):
    visitor = Client()
    visitor.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on"})
    for _ in range(3):
        visitor.get(product.get_absolute_url())
    page, body = statistics_page(client)
    assert page.context["top_viewed"]["rows"] == [] and "No product viewed 5 or more times yet." in body
    assert page.context["views"]["total"]["hidden"]
    for _ in range(3):
        visitor.get(product.get_absolute_url())
    page, body = statistics_page(Client())
    assert page.context["top_viewed"]["rows"] == [{"name": "Walnut Desk Lamp", "views": 6}]


@pytest.mark.promise("P9")
def test_returns_rate_hides_fewer_than_k_refunds(client, shelves):
    crowd(shelves["Blue Vase"], 8)
    page, body = statistics_page(client)
    assert "0 of 8 sold orders refunded: <strong>0.0%</strong>" in body  # no refund is about nobody
    buy(shelves["Blue Vase"], status=Order.Status.REFUNDED, email="unhappy@example.com")
    page, body = statistics_page(Client())
    assert page.context["returns"]["refunded"] is None and page.context["returns"]["rate"] is None
    assert "how many were refunded is not shown: the refunded or the kept orders rest on fewer than 5 people" in body
    assert "9 sold orders" in body
    for _ in range(5):
        buy(shelves["Blue Vase"], status=Order.Status.REFUNDED, user=UserFactory())
    page, body = statistics_page(Client())
    assert (page.context["returns"]["refunded"], page.context["returns"]["sold"]) == (6, 14)
    assert "6 of 14 sold orders refunded" in body


@pytest.mark.promise("P9")
def test_complementary_suppression_holds_in_rows_and_columns_at_once():
    """A 2x3 table (weeks x categories) with one lone buyer: hiding it hides the smallest cell of
    its row and of its column (each of those alone already rests on k people, so nothing more),
    until each row and each column hides nothing or at least k people."""
    people = {("w1", "a"): {"p1"}, ("w1", "b"): {f"b{i}" for i in range(6)}, ("w1", "c"): {f"c{i}" for i in range(9)},
              ("w2", "a"): {f"d{i}" for i in range(7)}, ("w2", "b"): {f"e{i}" for i in range(8)},
              ("w2", "c"): {f"f{i}" for i in range(9)}}
    weight = lambda cs: len(set().union(*(people[c] for c in cs)))  # noqa: E731
    groups = [[c for c in people if c[0] == w] for w in ("w1", "w2")] + [[c for c in people if c[1] == x] for x in "abc"]
    hidden = analytics.protect(cells=people, weight=weight, groups=groups, k=5)
    assert hidden == {("w1", "a"), ("w1", "b"), ("w2", "a")}
    for group in groups:
        covered = [c for c in group if c in hidden]
        assert not covered or weight(covered) >= 5


# --- what a staff member reads ------------------------------------------------------------------

def test_no_data_reads_as_no_data_with_one_heading(client, db):
    _, body = statistics_page(client)
    assert len(re.findall(r"<h1\b", body)) == 1 and "<h1>Shop statistics</h1>" in body
    assert "No sales in the last 8 weeks." in body and "No counted visits in the last 30 days." in body
    assert 'role="img"' not in body  # no chart: no empty box, no solid rectangle


@pytest.mark.promise("P9")
def test_one_day_of_sales_reads_as_one_day_not_a_solid_bar(client, shelves):
    crowd(shelves["Blue Vase"], 5)
    _, body = statistics_page(client)
    assert "Sales on one day only so far: the chart starts once there are two." in body
    assert 'role="img"' not in body
    assert timezone.localdate().strftime("%-d %b %Y") in body and "$50.00" in body


@pytest.mark.promise("P9")
def test_the_chart_has_axes_labels_and_values(client, shelves, django_assert_max_num_queries):
    crowd(shelves["Blue Vase"], 5, ago=timedelta(days=1))
    crowd(shelves["Walnut Desk Lamp"], 6, total="30.00")
    client.force_login(staff_user("Catalogue"))
    with django_assert_max_num_queries(30):
        body = client.get(reverse("admin:orders_statistics")).content.decode()
    svg = body[body.index('<svg role="img"'):body.index("</svg>", body.index('<svg role="img"'))]
    assert 'aria-label="Revenue per day"' in svg
    assert ">Revenue (USD)</text>" in svg and ">Day</text>" in svg  # axis titles
    assert ">$0</text>" in svg and ">$200</text>" in svg  # y ticks up to the highest day ($180)
    today, yesterday = timezone.localdate(), timezone.localdate() - timedelta(days=1)
    assert f"<title>{today.strftime('%-d %b')}: $180.00</title>" in svg
    assert f"<title>{yesterday.strftime('%-d %b')}: $50.00</title>" in svg
    assert "style=" not in svg and "<script" not in svg  # the strict CSP allows neither


def test_fulfilment_cannot_see_statistics(client, db):
    client.force_login(staff_user("Fulfilment"))
    assert client.get(reverse("admin:orders_statistics")).status_code == 403
