"""Private files go through Django's storage API, and every test here runs twice (the
private_store fixture, tests/conftest.py): against the local folder, then against a real
S3-compatible server on 127.0.0.1 (moto's standalone server) configured the way production
configures it. Each test ends by reading the raw storage itself (the folder's files, or every
object in the bucket over S3's own API) and looking for personal values in plaintext."""
from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Attachment, Order
from privacy.models import ExportJob
from privacy.protection.storage import (
    private_names,
    private_storage,
    sealed_chunks,
    sealed_read,
    sealed_write,
    sealed_writer,
)
from privacy.protection.stream import MAGIC, PERSON_MAGIC, SEGMENT
from privacy.rights.erasure import erase_subject
from privacy.rights.export import exports_expire
from tests.factories import OrderFactory, UserFactory
from tests.uploads import png_bytes

pytestmark = pytest.mark.django_db

PERSON = {"name": "Katherine Coleman Johnson", "email": "katherine.johnson@langley.example",
          "line1": "4 Trajectory Lane", "city": "White Sulphur Springs", "phone": "+1 757 555 0143",
          "support": "The orbital lamp hums at re-entry angle"}


def assert_no_plaintext(store, values) -> None:
    objects = store.raw_objects()
    for key, data in objects.items():
        assert data.startswith((MAGIC, PERSON_MAGIC)), key  # our sealed format, whatever the storage
        for value in values:
            assert value.encode().lower() not in data.lower(), (key, value)
            assert value.encode("utf-16-le") not in data, (key, value)


def person(**extra):
    user = UserFactory(email=PERSON["email"], name=PERSON["name"], phone=PERSON["phone"], **extra)
    for _ in range(25):
        OrderFactory(user=user, email=user.email, shipping_name=PERSON["name"], shipping_line1=PERSON["line1"],
                     shipping_city=PERSON["city"], phone=PERSON["phone"], status=Order.Status.COMPLETED,
                     completed_at=timezone.now())
    return user


def download_export(client, capture) -> tuple[ExportJob, bytes, list[bytes]]:
    with capture(execute=True):
        client.post(reverse("privacy:export_start"))
    job = ExportJob.objects.get()
    page = client.get(reverse("privacy:dashboard")).content.decode()
    link = next(part.split('"')[0] for part in page.split('href="')[1:] if "/account/privacy/download/" in part)
    response = client.get(link)
    assert response.status_code == 200 and response.streaming
    chunks = list(response.streaming_content)
    return job, b"".join(chunks), chunks


@pytest.mark.promise("P10")
def test_a_sealed_file_is_written_and_read_back_segment_by_segment(private_store):
    name = f"{secrets.token_hex(16)}.zip.enc"
    data = (PERSON["name"].encode() + b" " + secrets.token_bytes(97)) * 2500  # 5 segments, the last one short
    with sealed_writer(kind="exports", name=name) as sink:
        for i in range(0, len(data), 10_000):  # written in pieces, as the export writes
            sink.write(data[i:i + 10_000])
    assert list(private_store.raw_objects()) == [f"exports/{name}"]
    chunks = list(sealed_chunks(kind="exports", name=name))
    assert b"".join(chunks) == data and len(chunks) == 5 and all(len(c) <= SEGMENT for c in chunks)
    assert sealed_chunks(kind="exports", name=f"{secrets.token_hex(16)}.zip.enc") is None
    assert_no_plaintext(private_store, [PERSON["name"]])
    with pytest.raises(ValueError):
        private_storage().url(f"exports/{name}")  # never a link to a private file
    with pytest.raises(ValueError):
        sealed_read(kind="exports", name="../../config/settings.py")  # only names we could have made


@pytest.mark.promise("P10")
def test_a_write_that_fails_half_way_leaves_nothing_behind(private_store):
    name = f"{secrets.token_hex(16)}.zip.enc"
    with pytest.raises(RuntimeError):
        with sealed_writer(kind="exports", name=name) as sink:
            sink.write(b"x" * (3 * SEGMENT))
            raise RuntimeError("worker lost its database")
    assert private_store.raw_objects() == {}
    assert sealed_chunks(kind="exports", name=name) is None


@pytest.mark.promise("P10")
def test_private_objects_are_not_readable_by_anyone_else(private_store):
    name = f"{secrets.token_hex(16)}.bin"
    sealed_write(kind="attachments", name=name, data=png_bytes())
    if private_store.kind == "local":
        path = private_store.root / "attachments" / name
        assert oct(path.stat().st_mode)[-3:] == "600" and oct(path.parent.stat().st_mode)[-3:] == "700"
    else:
        acl = private_store.client.get_object_acl(Bucket=private_store.bucket, Key=f"attachments/{name}")
        grantees = [g["Grantee"] for g in acl["Grants"]]
        assert [g["Type"] for g in grantees] == ["CanonicalUser"] and not any("URI" in g for g in grantees)
        assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]  # the owner, no one else


@pytest.mark.promise("P10")
@pytest.mark.promise("P17")
def test_an_export_is_built_into_the_storage_downloaded_and_expired(private_store, client,
                                                                  django_capture_on_commit_callbacks):
    user = person()
    client.force_login(user)
    job, content, chunks = download_export(client, django_capture_on_commit_callbacks)
    assert list(private_store.raw_objects()) == [f"exports/{job.file_name}"]
    assert all(len(c) <= SEGMENT for c in chunks)  # streamed back segment by segment, not whole
    doc = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("data.json"))
    orders = doc["models"]["orders.Order"]["records"]
    assert len(orders) == 25 and {o["shipping_line1"] for o in orders} == {PERSON["line1"]}
    assert job.size == len(private_store.raw_objects()[f"exports/{job.file_name}"])
    assert_no_plaintext(private_store, [PERSON["name"], PERSON["email"], PERSON["line1"], PERSON["city"],
                                        PERSON["phone"], "data.json", "orders.Order"])
    leftover = f"{secrets.token_hex(16)}.zip.enc"  # a build whose worker died: no job points to it
    sealed_write(kind="exports", name=leftover, data=b"half an archive")
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert exports_expire() == 1
    assert private_store.raw_objects() == {} and private_names(kind="exports") == []
    job.refresh_from_db()
    assert (job.status, job.file_name) == ("expired", "")
    assert Client().get(reverse("privacy:dashboard")).status_code == 302  # nothing public left to find


@pytest.mark.promise("P10")
@pytest.mark.promise("P13")
def test_attachments_are_stored_read_by_their_owner_and_erased_with_the_person(
        private_store, client, django_capture_on_commit_callbacks):
    user = person()
    client.force_login(user)
    picture = png_bytes()
    client.post(reverse("orders:support"), {"subject": "Humming lamp", "message": PERSON["support"],
                                            "files": [SimpleUploadedFile("johnson-hum.png", picture, "image/png")]})
    attachment = Attachment.objects.get()
    assert list(private_store.raw_objects()) == [f"attachments/{attachment.file_name}"]
    assert_no_plaintext(private_store, [PERSON["support"]])
    assert picture not in private_store.raw_objects()[f"attachments/{attachment.file_name}"]
    response = client.get(reverse("orders:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == picture
    other = Client()
    other.force_login(UserFactory())
    assert other.get(reverse("orders:attachment", args=[attachment.pk])).status_code == 404
    download_export(client, django_capture_on_commit_callbacks)
    assert len(private_store.raw_objects()) == 2  # the attachment and the export
    erase_subject(user=user)
    assert private_store.raw_objects() == {}  # both files deleted through the storage
    assert not Attachment.objects.exists() and not ExportJob.objects.exclude(file_name="").exists()


CHILD = """
import json, django
django.setup()
from django.conf import settings
from privacy.protection.storage import private_storage, sealed_read, sealed_write
sealed_write(kind="attachments", name="ab" * 16 + ".bin", data=b"Dorothy Vaughan")
print(json.dumps({"backend": settings.STORAGES["private"]["BACKEND"], "class": type(private_storage()).__name__,
                  "read": sealed_read(kind="attachments", name="ab" * 16 + ".bin").decode()}))
"""


@pytest.mark.promise("P10")
def test_the_environment_chooses_the_bucket_with_django_storages_own_names(s3_server, tmp_path):
    """What production does: only environment variables, read by config/settings.py."""
    import os
    import subprocess
    import sys

    import boto3

    from tests.conftest import S3_CREDENTIALS

    bucket = f"shop-env-{secrets.token_hex(6)}"
    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=S3_CREDENTIALS["access_key"],
                          aws_secret_access_key=S3_CREDENTIALS["secret_key"], region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(SHOP_ENV="test", SHOP_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.settings")
    s3 = {**base, "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": s3_server, "AWS_S3_REGION_NAME": "us-east-1",
          "AWS_ACCESS_KEY_ID": S3_CREDENTIALS["access_key"], "AWS_SECRET_ACCESS_KEY": S3_CREDENTIALS["secret_key"],
          "CRYPTOGRAPHY_KEY": "k" * 40}

    def run(env) -> dict:
        done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120,
                              cwd=str(Path(__file__).resolve().parents[3]))
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run(s3) == {"backend": "privacy.protection.storage_s3.PrivateS3Storage", "class": "PrivateS3Storage",
                       "read": "Dorothy Vaughan"}
    stored = client.get_object(Bucket=bucket, Key="attachments/" + "ab" * 16 + ".bin")["Body"].read()
    assert stored.startswith(MAGIC) and b"Dorothy" not in stored
    local = run({**base, "CRYPTOGRAPHY_KEY": "k" * 40})
    assert local["class"] == "PrivateFileSystemStorage" and local["read"] == "Dorothy Vaughan"
    assert (tmp_path / "var" / "private" / "attachments" / ("ab" * 16 + ".bin")).exists()
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 1  # the local run wrote nothing to the bucket
