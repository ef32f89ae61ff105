from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from privacy.models import PrivacyRequest, Restriction
from privacy.registry.workdays import working_days_between
from privacy.rights.subject_requests import deadline_state, remind_staff, request_open
from tests.factories import OrderFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P24")
@pytest.mark.promise("P18")
def test_the_privacy_contact_form_files_a_request_with_a_due_date(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:contact"), {"kind": "complaint", "email": "upset@example.com",
                                                            "message": "You emailed me twice."})
    req = PrivacyRequest.objects.get()
    assert (req.kind, req.status, req.requester_email) == ("complaint", "received", "upset@example.com")
    assert req.due_at.date() == (req.received_at + timedelta(days=30)).date()
    assert f"Reference #{req.pk}" in response.content.decode()
    assert mail.outbox[0].to == ["upset@example.com"] and "answer by" in mail.outbox[0].body


@pytest.mark.parametrize("data", [{"kind": "complaint", "message": "x"}, {"kind": "hack", "email": "a@b.co",
                                  "message": "x"}, {"kind": "question", "email": "a@b.co", "message": ""}])
def test_an_incomplete_contact_form_is_explained_and_files_nothing(client, db, data):
    response = client.post(reverse("privacy:contact"), data)
    assert response.status_code == 400 and not PrivacyRequest.objects.exists()


@pytest.mark.promise("P18")
def test_staff_see_overdue_and_nearly_due_requests_and_get_a_daily_reminder(client, db):
    officer = staff_user("Privacy officer")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=40)):
        late = request_open(kind="access", email="late@example.com", notify=False)
    with time_machine.travel(now - timedelta(days=27)):
        soon = request_open(kind="question", email="soon@example.com", notify=False)
    fresh = request_open(kind="question", email="fresh@example.com", notify=False)
    assert [deadline_state(r) for r in (late, soon, fresh)] == ["overdue", "nearly due", "on time"]
    client.force_login(officer)
    page = client.get(reverse("admin:privacy_privacyrequest_changelist")).content.decode()
    assert "⚠ OVERDUE" in page and "⏰ nearly due" in page
    assert page.index(f">{late.pk}<") < page.index(f">{fresh.pk}<")  # the most urgent first
    assert remind_staff() == 2
    assert mail.outbox[-1].to == [officer.email]
    body = mail.outbox[-1].body
    assert f"#{late.pk}" in body and f"#{soon.pk}" in body and "late@example.com" not in body
    assert remind_staff() == 0  # once a day


@pytest.mark.promise("P18")
def test_extension_and_refusal_need_a_reason_and_the_requester_is_told(client, db,
                                                                       django_capture_on_commit_callbacks):
    client.force_login(staff_user("Privacy officer"))
    req = request_open(kind="access", email="asker@example.com", notify=False)
    due = req.due_at
    assert client.post(reverse("admin:privacy_request_extend", args=[req.pk]), {"reason": ""}).status_code == 200
    req.refresh_from_db()
    assert req.due_at == due
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_extend", args=[req.pk]), {"reason": "Your data is in archives."})
    req.refresh_from_db()
    assert req.due_at > due and req.extended_reason == "Your data is in archives."
    assert working_days_between(req.received_at, req.due_at) <= 30  # never past the 30 working-day promise
    assert "Your data is in archives." in mail.outbox[-1].body
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_refuse", args=[req.pk]), {"reason": "We hold nothing for you."})
    req.refresh_from_db()
    assert req.status == "refused" and "We hold nothing for you." in mail.outbox[-1].body


def test_a_reply_is_emailed_and_closes_the_request(client, db, django_capture_on_commit_callbacks):
    client.force_login(staff_user("Privacy officer"))
    req = request_open(kind="question", email="q@example.com", notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_reply", args=[req.pk]), {"reply": "We keep orders 10 years."})
    req.refresh_from_db()
    assert req.status == "completed" and mail.outbox[-1].to == ["q@example.com"]


def test_customer_service_cannot_handle_privacy_requests(client, db):
    client.force_login(staff_user("Customer service"))
    req = request_open(kind="question", email="q@example.com", notify=False)
    assert client.get(reverse("admin:privacy_request_reply", args=[req.pk])).status_code == 403


@pytest.mark.promise("P17")
def test_restriction_pauses_use_and_staff_see_a_banner(client, user):
    client.force_login(user)
    client.post(reverse("privacy:restriction"), {"restrict": "on"})
    assert Restriction.objects.filter(user=user, lifted_at__isnull=True).exists()
    assert "Restricted." in client.get(reverse("privacy:dashboard")).content.decode()
    order = OrderFactory(user=user, status=Order.Status.PAID)
    staff = Client()
    staff.force_login(staff_user("Customer service"))
    page = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "This customer has restricted the use of their data" in page
    client.post(reverse("privacy:restriction"), {})
    assert "This customer has restricted" not in staff.get(
        reverse("admin:orders_order_change", args=[order.pk])).content.decode()


@pytest.mark.promise("P17")
def test_a_locked_address_can_be_corrected_through_a_request(signed_in, user):
    order = OrderFactory(user=user, status=Order.Status.PAID)
    page = signed_in.get(order.get_absolute_url()).content.decode()
    assert "ask us to correct it" in page
    form = signed_in.get(reverse("privacy:contact"), {"kind": "rectification", "order": order.reference})
    assert f"About order {order.reference}" in form.content.decode()
    signed_in.post(reverse("privacy:contact"), {"kind": "rectification", "message": f"Order {order.reference}: flat 2"})
    req = PrivacyRequest.objects.get()
    assert (req.kind, req.user, req.verified_by) == ("rectification", user, "session")


def test_my_requests_appear_on_my_privacy_page(signed_in, user):
    request_open(kind="question", user=user, message="hi", notify=False)
    page = signed_in.get(reverse("privacy:dashboard")).content.decode()
    assert "Question" in page and "Received" in page
