"""A support attachment's file is sealed under its sender's data key (P10, P13): erasure destroys
the key, so a copy of the file kept in a backup of the folder or the bucket no longer opens, and
a download of a file whose key is gone, or out of reach, never answers with a 500."""
from __future__ import annotations

import contextlib
import io

import pytest
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from orders.models import Attachment
from privacy.models import DataKey
from privacy.protection.crypto import email_index
from privacy.protection.keystore import forget_cache
from privacy.protection.storage import private_storage, sealed_read
from privacy.protection.stream import PERSON_MAGIC, KeyGone, decrypting_chunks
from privacy.rights.erasure import erase_subject
from tests.factories import UserFactory
from tests.uploads import png_bytes

pytestmark = pytest.mark.django_db


class _Back(Exception):
    """Leaves a savepoint, undoing what was done in it."""


def stream_key_id(stored: bytes) -> str:
    """The key id a person's file names in its header: a length byte, then the id."""
    return stored[len(PERSON_MAGIC) + 1:len(PERSON_MAGIC) + 1 + stored[len(PERSON_MAGIC)]].decode()


def send_with_file(client: Client, name: str, **extra) -> Attachment:
    before = set(Attachment.objects.values_list("pk", flat=True))
    client.post(reverse("orders:support"), {"subject": "Dented", "message": "A photo of the dent", **extra,
                                            "files": [ContentFile(png_bytes(), name=name)]})
    return Attachment.objects.exclude(pk__in=before).get()


@pytest.mark.promise("P10")
@pytest.mark.promise("P13")
def test_an_attachment_file_is_sealed_under_its_senders_key_and_a_backup_copy_dies_with_it(
        private_store, django_capture_on_commit_callbacks):
    customer = UserFactory(email="barbara.mcclintock@example.com")
    signed = Client()
    signed.force_login(customer)
    mine = send_with_file(signed, "maize-crate.png")
    guest = Client()
    theirs = send_with_file(guest, "guest-crate.png", email="nettie.guest@example.com")
    objects = private_store.raw_objects()
    mine_copy, theirs_copy = objects[f"attachments/{mine.file_name}"], objects[f"attachments/{theirs.file_name}"]
    assert mine_copy.startswith(PERSON_MAGIC) and png_bytes() not in mine_copy
    assert stream_key_id(mine_copy) == DataKey.objects.get(subject=f"user:{customer.pk}").key_id
    assert stream_key_id(theirs_copy) == DataKey.objects.get(
        subject=f"guest:{email_index('nettie.guest@example.com')}").key_id
    download = signed.get(reverse("orders:attachment", args=[mine.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == png_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        erase_subject(user=customer)
        erase_subject(email="nettie.guest@example.com")
    forget_cache()
    assert private_store.raw_objects() == {}  # the files are deleted...
    # ...and copies restored from a backup of the folder or bucket no longer open.
    for name, copy in ((mine.file_name, mine_copy), (theirs.file_name, theirs_copy)):
        with pytest.raises(KeyGone):
            b"".join(decrypting_chunks(io.BytesIO(copy)))
        private_storage().save(f"attachments/{name}", ContentFile(copy))
        assert sealed_read(kind="attachments", name=name) is None  # read as no file: never an exception


@pytest.mark.promise("P10")
def test_a_download_whose_key_is_gone_or_out_of_reach_answers_plainly_never_500(staff_client):
    customer = UserFactory()
    signed = Client()
    signed.force_login(customer)
    attachment = send_with_file(signed, "anvil.png")
    staff = staff_client("Customer service")
    urls = {"person": (signed, reverse("orders:attachment", args=[attachment.pk])),
            "staff": (staff, reverse("admin:orders_attachment", args=[attachment.pk]))}
    assert [c.get(u).status_code for c, u in urls.values()] == [200, 200]

    forget_cache()
    # The key store is out of reach: its table is renamed inside a savepoint, rolled back after
    # (on PostgreSQL the failed reads abort the transaction up to that savepoint).
    with contextlib.suppress(_Back), transaction.atomic(using="keys"):
        with connections["keys"].cursor() as cursor:
            cursor.execute("ALTER TABLE privacy_datakey RENAME TO privacy_datakey_away")
        answers = [c.get(u) for c, u in urls.values()]
        raise _Back
    assert [a.status_code for a in answers] == [503, 503]
    assert all("try again" in a.content.decode() for a in answers)

    DataKey.objects.filter(subject=f"user:{customer.pk}").delete()  # as erasure does
    forget_cache()
    answers = [c.get(u) for c, u in urls.values()]
    assert [a.status_code for a in answers] == [410, 410]
    assert all("no longer kept" in a.content.decode() and png_bytes() not in a.content for a in answers)
