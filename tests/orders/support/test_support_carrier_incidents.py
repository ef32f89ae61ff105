import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.carrier import PAYLOAD, TrackingUpdate, tracking_apply
from orders.models import Attachment, Order, SupportThread
from privacy.incidents.services import (
    affected_query,
    clock,
    incident_notify,
)
from privacy.models import AccessLogEntry, AffectedPerson, Disclosure, Incident
from privacy.protection.storage import private_names, private_storage
from shop.models import Address
from tests.factories import OrderFactory, UserFactory, staff_user
from tests.uploads import png_bytes

pytestmark = pytest.mark.django_db


def upload(name, data, kind="image/png"):
    return SimpleUploadedFile(name, data, content_type=kind)


@pytest.mark.promise("P24")
def test_a_guest_writes_with_an_image_and_gets_the_reply_by_email(client, django_capture_on_commit_callbacks):
    response = client.post(reverse("orders:support"), {
        "email": "guest@example.com", "subject": "Scratched lamp", "message": "It arrived scratched.",
        "files": [upload("photo.png", png_bytes())]})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    thread = SupportThread.objects.get()
    attachment = Attachment.objects.get()
    assert (attachment.content_type, attachment.original_name) == ("image/png", "photo.png")
    with private_storage().open(f"attachments/{attachment.file_name}") as source:
        stored = source.read()
    assert png_bytes() not in stored and b"PNG" not in stored  # encrypted at rest
    staff = Client()
    staff.force_login(staff_user("Customer service"))
    page = staff.get(reverse("admin:orders_supportthread_change", args=[thread.pk])).content.decode()
    assert "It arrived scratched." in page and "guest@example.com" not in page  # the email stays masked
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:orders_thread_reply", args=[thread.pk]), {"body": "Sorry! A new one is on its way."})
    reply = mail.outbox[-1]
    assert reply.to == ["guest@example.com"] and "A new one is on its way." in reply.body
    link = reply.body.split("http://127.0.0.1:8000")[1].split()[0]
    conversation = client.get(link).content.decode()
    assert "It arrived scratched." in conversation and "A new one is on its way." in conversation
    download = client.get(reverse("orders:attachment", args=[attachment.pk]))
    assert b"".join(download.streaming_content) == png_bytes()
    assert Client().get(reverse("orders:attachment", args=[attachment.pk])).status_code == 404  # nobody else
    assert staff.get(reverse("admin:orders_attachment", args=[attachment.pk])).status_code == 200
    assert AccessLogEntry.objects.filter(model_label="orders.Attachment").exists()  # staff opening it is logged


@pytest.mark.parametrize("name,data", [
    ("fake.png", b"\x89PNG\r\n\x1a\n" + b"this is not really an image" * 10),
    ("script.png", b"<script>alert(1)</script>"),
    ("invoice.pdf", b"MZ\x90\x00 a windows program"),
    ("notes.txt", b"plain text"),
])
def test_a_file_that_is_not_really_an_image_or_pdf_is_refused_and_nothing_is_stored(client, db, name, data):
    response = client.post(reverse("orders:support"), {
        "email": "guest@example.com", "subject": "Hi", "message": "See attached", "files": [upload(name, data)]})
    assert response.status_code == 400
    assert "is not an image (PNG, JPEG, GIF, WebP) or a PDF file" in response.content.decode()
    assert not SupportThread.objects.exists() and not Attachment.objects.exists()
    assert private_names(kind="attachments") == []


def test_a_real_pdf_is_accepted_and_oversized_files_refused(client, db, settings):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    client.post(reverse("orders:support"), {"email": "g@example.com", "subject": "Invoice", "message": "x",
                                            "files": [upload("invoice.pdf", pdf, "application/pdf")]})
    assert Attachment.objects.get().content_type == "application/pdf"
    settings.SHOP_ATTACHMENT_MAX_BYTES = 100
    response = client.post(reverse("orders:support"), {"email": "g@example.com", "subject": "Big", "message": "x",
                                                       "files": [upload("big.png", png_bytes() + b"\0" * 200)]})
    assert response.status_code == 400 and "larger than" in response.content.decode()


def test_attachments_have_no_public_url(client, db, settings):
    client.post(reverse("orders:support"), {"email": "g@example.com", "subject": "Hi", "message": "x",
                                            "files": [upload("p.png", png_bytes())]})
    name = Attachment.objects.get().file_name
    for url in (f"/media/{name}", f"/media/attachments/{name}", f"/static/{name}", f"/media/products/../attachments/{name}"):
        assert client.get(url).status_code == 404
    assert not private_storage().path("attachments").startswith(str(settings.MEDIA_ROOT))


def test_signed_in_conversations_live_in_the_personal_center(signed_in, user):
    signed_in.post(reverse("orders:support"), {"subject": "Where is my parcel?", "message": "Order late"})
    thread = SupportThread.objects.get()
    assert thread.user == user
    assert "Where is my parcel?" in signed_in.get(reverse("orders:threads")).content.decode()
    other = Client()
    other.force_login(UserFactory())
    assert other.get(reverse("orders:thread", args=[thread.pk])).status_code == 404


@pytest.mark.promise("P12")
@pytest.mark.promise("P15")
def test_the_carrier_payload_contains_exactly_the_allowed_fields(client, db):
    paid = OrderFactory(status=Order.Status.PAID, shipping_name="Ada Lovelace", email="ada@example.com",
                        phone="+44 1", shipping_line1="12 Row")
    unpaid = OrderFactory(status=Order.Status.PENDING_PAYMENT)
    client.force_login(staff_user("Fulfilment"))
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "hand_off_to_carrier", "_selected_action": [paid.pk, unpaid.pk]})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["reference", "name", "line1", "line2", "postal_code", "city", "region", "country", "phone"]
    assert [r["reference"] for r in rows] == [paid.reference]  # only orders ready to ship
    assert rows[0]["name"] == "Ada Lovelace" and "ada@example.com" not in response.content.decode()
    disclosure = Disclosure.objects.get(processor="carrier")
    assert disclosure.reference == paid.reference and set(disclosure.fields) == {k for _, k in PAYLOAD}
    assert AccessLogEntry.objects.filter(action="export", model_label="orders.Order").exists()


@pytest.mark.promise("P6")
def test_tracking_updates_move_the_order_and_tell_the_customer(db, django_capture_on_commit_callbacks):
    order = OrderFactory(status=Order.Status.PAID)
    with django_capture_on_commit_callbacks(execute=True):
        assert tracking_apply(TrackingUpdate(order.reference.lower(), "Parcelways", "PW9", "shipped")) == "shipped"
        assert tracking_apply(TrackingUpdate(order.reference, "Parcelways", "PW9", "shipped")) == "unchanged"
        assert tracking_apply(TrackingUpdate(order.reference, "Parcelways", "PW9", "delivered")) == "delivered"
        assert tracking_apply(TrackingUpdate("NOPE", "x", "y", "delivered")) == "unknown order"
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == ("delivered", "PW9")
    assert [m.subject.split(" ")[-1] for m in mail.outbox] == ["way", "delivered"]


@pytest.mark.promise("P22")
def test_an_incidents_affected_query_finds_exactly_the_people_holding_the_named_categories(db):
    with_address = UserFactory()
    Address.objects.create(user=with_address, name="A", line1="l", city="c", country="US")
    with_order = UserFactory()
    OrderFactory(user=with_order)
    bare = UserFactory()  # only an account: email, no address
    guest = OrderFactory(email="guest@example.com")
    found = affected_query(["address"])
    assert set(found.values()) == {with_address.email, with_order.email, guest.email}
    assert bare.email not in found.values()
    contact = set(affected_query(["contact"]).values())
    assert {bare.email, with_address.email, with_order.email, "guest@example.com"} <= contact


@pytest.mark.promise("P22")
def test_an_incident_shows_the_72_hour_clock_and_notifies_the_affected_in_plain_words(client, db):
    victim = UserFactory()
    OrderFactory(user=victim)
    officer = staff_user("Privacy officer")
    client.force_login(officer)
    detected = timezone.now() - timedelta(hours=10)
    client.post(reverse("admin:privacy_incident_add"), {
        "title": "Lost backup", "detected_at_0": detected.strftime("%Y-%m-%d"), "detected_at_1": detected.strftime("%H:%M:%S"),
        "description": "A backup disk with order addresses was stolen.", "categories": ["address"],
        "severity": "high", "remedial_steps": "Keys rotated.", "advice": "Watch for fake parcel emails."})
    incident = Incident.objects.get()
    assert clock(incident).startswith("61 h left") or clock(incident).startswith("62 h left")
    assert "h left to notify the regulator" in client.get(reverse("admin:privacy_incident_changelist")).content.decode()
    client.post(reverse("admin:privacy_incident_step", args=[incident.pk, "select"]))
    assert list(AffectedPerson.objects.values_list("user", flat=True)) == [victim.pk]
    client.post(reverse("admin:privacy_incident_step", args=[incident.pk, "notify"]))
    message = mail.outbox[-1]
    assert message.to == [victim.email] and "A backup disk with order addresses was stolen." in message.body
    assert "Postal address" in message.body and "Watch for fake parcel emails." in message.body
    assert incident_notify(incident_id=incident.pk) == 0  # nobody is told twice
    with time_machine.travel(detected + timedelta(hours=73)):
        assert clock(Incident.objects.get()).startswith("⚠ OVERDUE")
    client.post(reverse("admin:privacy_incident_step", args=[incident.pk, "regulator"]))
    assert Incident.objects.get().regulator_notified_at is not None


def test_customer_service_cannot_open_incidents(client, db):
    client.force_login(staff_user("Customer service"))
    assert client.get(reverse("admin:privacy_incident_changelist")).status_code == 403
