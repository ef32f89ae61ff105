import csv
import io
import json
import os
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from privacy.models import ExportJob
from privacy.protection.storage import private_names, private_storage, sealed_chunks
from privacy.registry import declarations as registry
from privacy.rights.export import SCHEMA_VERSION, exports_expire
from tests.factories import OrderFactory, UserFactory
from tests.privacy.rights.sample_person import VALUES

pytestmark = pytest.mark.django_db


def request_export(client, capture):
    with capture(execute=True):
        client.post(reverse("privacy:export_start"))
    job = ExportJob.objects.get()
    page = client.get(reverse("privacy:dashboard")).content.decode()
    link = next(part.split('"')[0] for part in page.split('href="')[1:] if "/account/privacy/download/" in part)
    return job, link


def unzip(content: bytes) -> tuple[dict, dict[str, str]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name).decode() for name in archive.namelist()}
    return json.loads(files["data.json"]), files


@pytest.mark.promise("P17")
def test_download_my_data_contains_every_registered_field_and_nobody_elses(
        client, rich_user, django_capture_on_commit_callbacks):
    namesake = UserFactory(email="other.margaret@example.com", name=VALUES["name"])  # same name, other person
    theirs = OrderFactory(user=namesake, shipping_name=VALUES["name"], email=namesake.email)
    client.force_login(rich_user)
    job, link = request_export(client, django_capture_on_commit_callbacks)
    assert job.status == "ready" and job.progress == 100
    assert any("Your data is ready" in m.subject for m in mail.outbox)
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    doc, files = unzip(b"".join(response.streaming_content))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert set(doc["models"]) == {e.label for e in registry.entries()}  # every registered model
    orders = doc["models"]["orders.Order"]["records"]
    assert len(orders) == 3 and {o["shipping_name"] for o in orders} == {VALUES["name"]}
    assert theirs.reference not in json.dumps(doc) and "other.margaret" not in json.dumps(doc)
    for entry in registry.entries():
        for record in doc["models"][entry.label]["records"]:
            for name, personal in entry.fields.items():
                assert (name in record) == personal.export, (entry.label, name)
    assert doc["models"]["shop.User"]["records"][0]["phone"] == VALUES["phone"]
    assert "password" not in doc["models"]["shop.User"]["records"][0]
    assert doc["models"]["orders.Payment"]["records"][0]["card_last4"] == "4242"
    assert doc["models"]["privacy.PrivacyRequest"]["records"][0]["message"] == VALUES["message"]
    assert {"identity.csv", "contact.csv", "address.csv", "payment_reference.csv", "behavioural.csv"} <= set(files)
    assert VALUES["line1"] in files["address.csv"] and files["address.csv"].startswith("model,record_id,field,value")


@pytest.mark.promise("P10")
def test_the_export_file_is_encrypted_in_the_private_folder(client, rich_user, django_capture_on_commit_callbacks,
                                                            settings):
    client.force_login(rich_user)
    job, _ = request_export(client, django_capture_on_commit_callbacks)
    storage = private_storage()
    path = storage.path(f"exports/{job.file_name}")  # the local folder: the default storage
    assert path.startswith(str(settings.PRIVATE_ROOT)) and oct(os.stat(path).st_mode)[-3:] == "600"
    with storage.open(f"exports/{job.file_name}") as stored:
        raw = stored.read()
    assert b"PK\x03\x04" not in raw[:10] and VALUES["name"].encode() not in raw and b"data.json" not in raw
    assert not str(settings.PRIVATE_ROOT).startswith(str(settings.MEDIA_ROOT))


@pytest.mark.promise("P17")
def test_the_download_is_404_for_anyone_else_tampered_or_expired(client, rich_user, django_capture_on_commit_callbacks):
    client.force_login(rich_user)
    job, link = request_export(client, django_capture_on_commit_callbacks)
    other = Client()
    other.force_login(UserFactory())
    assert other.get(link).status_code == 404
    assert Client().get(link).status_code in (302, 404)  # anonymous: sign in first, then still not theirs
    assert client.get(link[:-3] + "xyz/").status_code == 404
    assert client.get(link).status_code == 200
    name = job.file_name
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert client.get(link).status_code == 404
        assert exports_expire() == 1
    assert sealed_chunks(kind="exports", name=name) is None
    job.refresh_from_db()
    assert job.status == "expired" and job.file_name == ""
    assert private_names(kind="exports") == []


def test_progress_is_shown_while_the_job_runs(client, rich_user):
    client.force_login(rich_user)
    ExportJob.objects.create(user=rich_user, token="a" * 32, status="running", progress=40)
    page = client.get(reverse("privacy:dashboard")).content.decode()
    assert '<progress max="100" value="40">' in page and 'http-equiv="refresh"' in page
    assert "Download my data" not in page  # no second job while one runs


def documented_archive(doc: dict) -> dict[str, str]:
    """Schema version 1 as documented (privacy/rights/export.py), built the plain way from the
    whole document in memory: what the streamed archive must contain, byte for byte."""
    per_category: dict[str, list] = {}
    entries = {e.label: e for e in registry.entries()}
    for label, data in doc["models"].items():
        entry = entries[label]
        for record in data["records"]:
            for name, value in record.items():
                personal = entry.fields.get(name)
                category = personal.category.value if personal else (entry.category.value if entry.category
                                                                     else "records")
                per_category.setdefault(category, []).append((label, record.get("id"), name, value))
    files = {"data.json": json.dumps(doc, indent=2, ensure_ascii=False)}
    for category, rows in sorted(per_category.items()):
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["model", "record_id", "field", "value"])
        writer.writerows(rows)
        files[f"{category}.csv"] = text.getvalue()
    return files


class OneWayPipe(io.RawIOBase):
    """A sink that cannot seek or tell, like the storage upload the archive is written into."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)


@pytest.mark.promise("P17")
def test_the_streamed_archive_is_exactly_the_documented_json_and_csv(rich_user):
    from privacy.rights.export import export_document, export_write

    OrderFactory(user=rich_user, email=rich_user.email, shipping_name='Zoë "Quote", Comma\nNewline')
    sink = OneWayPipe()
    with time_machine.travel(timezone.now(), tick=False):
        count = export_write(sink=sink, user=rich_user)
        expected = documented_archive(export_document(user=rich_user))
    archive = zipfile.ZipFile(io.BytesIO(bytes(sink.data)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == ["data.json", *sorted(n for n in expected if n.endswith(".csv")), "README.txt"]
    for name, text in expected.items():
        assert archive.read(name).decode() == text, name
    assert count == sum(len(m["records"]) for m in json.loads(expected["data.json"])["models"].values()) > 4
    assert "Zoë" in expected["data.json"] and 'Zoë ""Quote"", Comma' in expected["identity.csv"]
    from privacy.rights.export import _exported_fields, _jsonable

    entry = next(e for e in registry.entries() if e.label == "orders.Order")
    fields = _exported_fields(entry)
    as_models = [{f.attname if f.is_relation else f.name: _jsonable(getattr(o, f.attname)) for f in fields}
                 for o in Order.objects.filter(user=rich_user).order_by("pk")]  # read through model instances
    assert json.loads(expected["data.json"])["models"]["orders.Order"]["records"] == as_models


@pytest.mark.promise("P17")
def test_a_guest_with_no_records_gets_every_model_with_empty_lists():
    from privacy.rights.export import export_write

    sink = OneWayPipe()
    assert export_write(sink=sink, email="nobody.here@example.com") == 0
    doc = json.loads(zipfile.ZipFile(io.BytesIO(bytes(sink.data))).read("data.json"))
    assert doc["subject"] == {"kind": "guest"} and doc["schema_version"] == SCHEMA_VERSION
    assert set(doc["models"]) == {e.label for e in registry.entries()}
    assert all(m["records"] == [] for m in doc["models"].values())


@pytest.mark.promise("P17")
def test_export_of_a_user_with_1000_orders_runs_a_bounded_number_of_queries(rich_user, django_assert_max_num_queries):
    from privacy.rights.export import export_write

    Order.objects.bulk_create([Order(user=rich_user, email=VALUES["email"], email_index="x", shipping_name="M H",
                                     shipping_line1="l", shipping_city="c", shipping_country="US",
                                     subtotal=1, total=1) for _ in range(1000)])
    sink = OneWayPipe()
    with django_assert_max_num_queries(len(registry.entries()) + 5):
        export_write(sink=sink, user=rich_user)
    doc = json.loads(zipfile.ZipFile(io.BytesIO(bytes(sink.data))).read("data.json"))
    assert len(doc["models"]["orders.Order"]["records"]) == 1003


@pytest.mark.promise("P17")
def test_a_guest_gets_their_orders_data_by_confirming_an_emailed_link(client, db, django_capture_on_commit_callbacks):
    order = OrderFactory(email="guest.buyer@example.com", shipping_name="Guest Buyer")
    OrderFactory(email="someone.else@example.com", shipping_name="Someone Else")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:guest_export"), {"email": "Guest.Buyer@example.com"})
    confirm = mail.outbox[-1]
    assert confirm.to == ["guest.buyer@example.com"]  # the canonical form (privacy.protection.emailaddr)
    assert "guest.buyer" not in confirm.body.split("http")[1]
    url = confirm.body.split("http://127.0.0.1:8000")[1].split()[0]
    assert client.get(url).status_code == 200 and not ExportJob.objects.exists()  # GET alone does nothing
    with django_capture_on_commit_callbacks(execute=True):
        progress = client.post(url)
    page = client.get(progress["Location"]).content.decode()
    download = page.split('href="?s=')[1].split('"')[0]
    doc, _ = unzip(b"".join(client.get(progress["Location"], {"s": download}).streaming_content))
    assert [o["reference"] for o in doc["models"]["orders.Order"]["records"]] == [order.reference]
    assert Client().get(progress["Location"], {"s": download}).status_code == 404  # another browser: no


def test_privacy_export_command_for_staff(rich_user, tmp_path):
    from django.core.management import call_command

    call_command("privacy_export", email=VALUES["email"], output=str(tmp_path / "x.zip"))
    doc, _ = unzip((tmp_path / "x.zip").read_bytes())
    assert len(doc["models"]["orders.Order"]["records"]) == 3


@pytest.mark.promise("P10")
@pytest.mark.promise("P17")
def test_export_file_is_a_sealed_stream_and_the_download_streams_it(client, django_capture_on_commit_callbacks):
    from privacy.protection.stream import MAGIC, SEGMENT

    user = UserFactory(email="stream.reader@example.com")
    for _ in range(60):  # enough records for an archive of several segments
        OrderFactory(user=user, email=user.email, shipping_name="Ada Streamwright")
    client.force_login(user)
    job, link = request_export(client, django_capture_on_commit_callbacks)
    with private_storage().open(f"exports/{job.file_name}") as source:
        stored = source.read()
    assert stored.startswith(MAGIC) and b"stream.reader" not in stored and b"Streamwright" not in stored
    response = client.get(link)
    assert response.streaming and not response.has_header("Content-Length")
    chunks = list(response.streaming_content)
    assert all(len(c) <= SEGMENT for c in chunks)
    doc, _ = unzip(b"".join(chunks))
    assert len(doc["models"]["orders.Order"]["records"]) == 60
