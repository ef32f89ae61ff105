"""Staff roles see the least they need, masked by default, and every look is logged."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from orders.models import Order
from privacy.audit.log import audit_log, audit_verify
from privacy.models import AccessLogEntry
from privacy.protection.masking import mask_email, mask_name, mask_phone
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(db):
    customer = UserFactory(email="ada@lovelace.example")
    return OrderFactory(user=customer, email="ada@lovelace.example", shipping_name="Ada Lovelace",
                        shipping_line1="12 Analytical Row", shipping_city="London", shipping_country="GB",
                        phone="+44 20 7946 0942", status=Order.Status.PAID)


CLEAR = ["ada@lovelace.example", "Ada Lovelace", "12 Analytical Row", "7946 0942"]


def test_masks_look_like_the_policy_says():
    assert mask_email("jane.doe@example.com") == "j•••@e•••.com"
    assert mask_name("Ada King Lovelace") == "A••• K••• L•••"
    assert mask_phone("+44 20 7946 0942") == "•••• •••• 42"
    assert mask_email("") == "" and mask_phone(None) == ""


@pytest.mark.promise("P11")
@pytest.mark.promise("P12")
@pytest.mark.promise("P30")
def test_customer_service_sees_only_masked_values_and_each_view_is_logged(staff_client, order):
    client = staff_client("Customer service")
    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    detail = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for page in (listing, detail):
        for value in CLEAR:
            assert value not in page
    assert "a•••@l•••.example" in listing and "A••• L•••" in listing and "London" in listing
    assert "•••• •••• 42" in detail and "London" in detail
    assert "Reveal" not in detail  # no reveal permission
    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert [(e.action, e.model_label, e.actor_id_snapshot) for e in entries] == [
        ("list", "orders.Order", client.user.pk), ("view", "orders.Order", client.user.pk)]
    assert entries[1].object_ids == [str(order.pk)] and entries[1].subject_user_ids == [order.user_id]
    assert "shipping_name (masked)" in entries[1].fields
    assert entries[1].actor_role == "Customer service"
    stored = repr([(e.fields, e.object_ids, e.reason) for e in entries])
    assert not any(value in stored for value in CLEAR)  # never the values themselves


@pytest.mark.promise("P11")
def test_a_catalogue_user_cannot_open_orders_or_users(staff_client, order):
    client = staff_client("Catalogue")
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403
    assert client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 403
    assert client.get(reverse("admin:shop_user_changelist")).status_code == 403
    assert client.get(reverse("admin:shop_product_changelist")).status_code == 200
    assert not AccessLogEntry.objects.exists()


@pytest.mark.promise("P11")
@pytest.mark.promise("P12")
def test_fulfilment_sees_only_orders_awaiting_shipment_with_the_details_to_ship(staff_client, order):
    delivered = OrderFactory(status=Order.Status.DELIVERED, shipping_name="Old Customer")
    client = staff_client("Fulfilment")
    listing = client.get(reverse("admin:orders_order_changelist"))
    assert list(listing.context["cl"].result_list) == [order]
    detail = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Ada Lovelace" in detail and "12 Analytical Row" in detail and "+44 20 7946 0942" in detail
    assert "ada@lovelace.example" not in detail  # the email is not needed to ship
    assert client.get(reverse("admin:orders_order_change", args=[delivered.pk])).status_code == 302  # not theirs
    view = AccessLogEntry.objects.filter(action="view").get()
    assert "shipping_name" in view.fields and "email (masked)" in view.fields


@pytest.mark.promise("P12")
@pytest.mark.promise("P30")
def test_a_reveal_needs_a_reason_and_is_logged(staff_client, order):
    client = staff_client("Privacy officer")
    url = reverse("admin:orders_order_reveal", args=[order.pk])
    assert "Reveal (reason required, logged)" in client.get(
        reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "A reason is required to reveal personal data." in refused.content.decode()
    assert "Ada Lovelace" not in refused.content.decode()
    assert not AccessLogEntry.objects.filter(action="reveal").exists()
    shown = client.post(url, {"reason": "Customer asked to confirm the delivery address, ticket 4711"})
    assert shown.status_code == 200
    for value in ("Ada Lovelace", "12 Analytical Row", "ada@lovelace.example"):
        assert value in shown.content.decode()
    entry = AccessLogEntry.objects.get(action="reveal")
    assert entry.reason == "Customer asked to confirm the delivery address, ticket 4711"
    assert {"email", "shipping_name", "phone"} <= set(entry.fields)


def test_staff_without_the_reveal_permission_cannot_reveal(staff_client, order):
    client = staff_client("Customer service")
    response = client.post(reverse("admin:orders_order_reveal", args=[order.pk]), {"reason": "just curious, really"})
    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(action="reveal").exists()


@pytest.mark.promise("P11")
def test_the_access_log_is_read_only_for_privacy_officers_and_closed_to_others(staff_client, order):
    audit_log(actor=None, action="view", model_label="orders.Order", object_ids=[order.pk])
    entry = AccessLogEntry.objects.get()
    officer = staff_client("Privacy officer")
    assert officer.get(reverse("admin:privacy_accesslogentry_changelist")).status_code == 200
    assert officer.get(reverse("admin:privacy_accesslogentry_change", args=[entry.pk])).status_code == 200
    assert officer.post(reverse("admin:privacy_accesslogentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert officer.get(reverse("admin:privacy_accesslogentry_add")).status_code == 403
    cs = staff_client("Customer service")
    assert cs.get(reverse("admin:privacy_accesslogentry_changelist")).status_code == 403
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.update(reason="nothing happened")
    entry.reason = "edited"
    with pytest.raises(PermissionError):
        entry.save()
    assert AccessLogEntry.objects.count() == 1


def _entries(n):
    return [audit_log(actor=None, action="view", model_label="orders.Order", object_ids=[i], reason=f"r{i}")
            for i in range(n)]


@pytest.mark.promise("P11")
def test_audit_verify_passes_on_an_intact_log(db, capsys):
    _entries(5)
    assert audit_verify() == []
    call_command("audit_verify")
    assert "Access log intact: 5 entries verified." in capsys.readouterr().out


@pytest.mark.promise("P11")
def test_audit_verify_names_an_edited_row(db, capsys):
    entries = _entries(5)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE privacy_accesslogentry SET action = 'list' WHERE id = %s", [entries[2].pk])
    with pytest.raises(Exception, match="tampered"):
        call_command("audit_verify")
    err = capsys.readouterr().err
    assert f"TAMPERED entry #{entries[2].pk}: its content was changed" in err
    assert f"#{entries[3].pk}" not in err


@pytest.mark.promise("P11")
def test_audit_verify_detects_a_deleted_row_and_a_deleted_tail(db):
    entries = _entries(5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM privacy_accesslogentry WHERE id = %s", [entries[1].pk])
    problems = audit_verify()
    assert [p.entry_id for p in problems] == [entries[2].pk]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM privacy_accesslogentry WHERE id > %s", [entries[2].pk])
    assert any("newest entries were deleted" in str(p) for p in audit_verify())


def test_admin_order_list_keeps_a_constant_query_count(staff_client, db, django_assert_max_num_queries):
    client = staff_client("Customer service")
    for _ in range(3):
        OrderFactory(status=Order.Status.PAID)
    client.get(reverse("admin:orders_order_changelist"))  # warm-up: creates the audit chain head
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("admin:orders_order_changelist"))
    for _ in range(40):
        OrderFactory(status=Order.Status.PAID)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("admin:orders_order_changelist"))
    assert len(page.context["cl"].result_list) == 43


@pytest.mark.promise("P11")
@pytest.mark.promise("P12")
def test_a_superuser_sees_an_order_masked_like_everyone_and_reveals_with_a_reason(staff_client, order):
    client = staff_client(None, is_superuser=True)
    detail = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for value in CLEAR:  # a paid order: only Fulfilment ships it, so only they see it in full
        assert value not in detail
    assert "A••• L•••" in detail and "•••• •••• 42" in detail
    assert "Reveal (reason required, logged)" in detail and "Mark shipped" in detail
    view = AccessLogEntry.objects.get(action="view")
    assert {"shipping_name (masked)", "phone (masked)"} <= set(view.fields) and view.actor_role == "Superuser"
    shown = client.post(reverse("admin:orders_order_reveal", args=[order.pk]),
                        {"reason": "Carrier called about a damaged label, ticket 5120"})
    assert "Ada Lovelace" in shown.content.decode() and "12 Analytical Row" in shown.content.decode()
    assert AccessLogEntry.objects.get(action="reveal").reason == "Carrier called about a damaged label, ticket 5120"


@pytest.mark.promise("P12")
def test_a_superuser_sees_conversations_and_return_reasons_masked(staff_client, db):
    from orders.models import ReturnRequest
    from orders.support import thread_open

    thread = thread_open(subject="Lamp flickers", body="It flickers at night.", email="ada@lovelace.example")
    ret = ReturnRequest.objects.create(order=OrderFactory(status=Order.Status.DELIVERED), reason="Too bright for me")
    cs = staff_client("Customer service")  # the role that answers them sees them
    assert "It flickers at night." in cs.get(reverse("admin:orders_supportthread_change", args=[thread.pk])).content.decode()
    assert "Too bright for me" in cs.get(reverse("admin:orders_returnrequest_change", args=[ret.pk])).content.decode()
    client = staff_client(None, is_superuser=True)
    page = client.get(reverse("admin:orders_supportthread_change", args=[thread.pk])).content.decode()
    assert "Lamp flickers" not in page and "It flickers at night." not in page and "ada@lovelace.example" not in page
    page = client.get(reverse("admin:orders_returnrequest_change", args=[ret.pk])).content.decode()
    assert "Too bright for me" not in page


@pytest.mark.promise("P11")
@pytest.mark.promise("P30")
def test_the_admin_autocomplete_never_searches_personal_records(staff_client, order):
    client = staff_client("Customer service")
    autocomplete = reverse("admin:autocomplete")
    # any foreign key to Order will do: the endpoint does not ask whether a form uses it
    probes = [{"app_label": "orders", "model_name": "supportthread", "field_name": "order"},
              {"app_label": "orders", "model_name": "returnrequest", "field_name": "order"}]
    for probe in probes:
        response = client.get(autocomplete, {**probe, "term": "ada@lovelace.example"})
        assert response.status_code == 404, probe
        assert order.reference not in response.content.decode()
    officer = staff_client("Privacy officer")  # may view users, but not look them up unlogged
    response = officer.get(autocomplete, {"app_label": "orders", "model_name": "order", "field_name": "user",
                                          "term": "ada@"})
    assert response.status_code == 404 and "lovelace" not in response.content.decode()
    assert not AccessLogEntry.objects.exists()  # nothing was searched, so nothing to log
    # the list page still finds the order by email, and logs the search
    listing = client.get(reverse("admin:orders_order_changelist"), {"q": "ada@lovelace.example"})
    assert list(listing.context["cl"].result_list) == [order]
    assert AccessLogEntry.objects.get().action == "search"


def test_the_admin_autocomplete_still_serves_records_without_personal_data(staff_client, product):
    client = staff_client("Catalogue")
    response = client.get(reverse("admin:autocomplete"), {"app_label": "shop", "model_name": "product",
                                                         "field_name": "category", "term": product.category.name})
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(product.category.pk), "text": str(product.category)}]


@pytest.mark.promise("P13")
def test_not_even_a_superuser_deletes_an_account_past_erasure(staff_client, order):
    """An account leaves through erasure only: deleting it from the admin would orphan its
    orders (and the daily key sweep would then make them unreadable without anonymising them)."""
    from shop.models import User

    client = staff_client(None, is_superuser=True)
    customer = order.user
    assert client.get(reverse("admin:shop_user_delete", args=[customer.pk])).status_code == 403
    response = client.post(reverse("admin:shop_user_changelist"),
                           {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert User.objects.filter(pk=customer.pk).exists()
    assert Order.objects.get(pk=order.pk).user_id == customer.pk
