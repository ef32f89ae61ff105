"""The record of processing is one click from the admin's home page, and what it says is encrypted
is what the storage really encrypts: read from the field classes (and, for two-factor secrets,
from what allauth's adapter writes), then checked against the raw database rows."""
from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.urls import reverse
from django_cryptography.fields import EncryptedMixin

from privacy.processors.inventory import inventory
from privacy.protection.signin import SignInEmailField
from privacy.registry import declarations as registry
from tests.factories import TOTP_SECRET, staff_user

pytestmark = pytest.mark.django_db


def fields_by_key() -> dict[str, dict]:
    return {f"{m['model']}.{f['field']}": f for m in inventory()["models"] for f in m["fields"]}


@pytest.mark.promise("P10")
def test_two_factor_secrets_are_listed_as_encrypted_and_really_are(client):
    officer = staff_user("Privacy officer")  # has an authenticator app (TOTP) like all staff
    stored = Authenticator.objects.get(user=officer, type=Authenticator.Type.TOTP)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [stored.pk])
        raw = cursor.fetchone()[0]
    assert TOTP_SECRET not in raw  # encrypted inside the JSON, by our MFA adapter
    row = fields_by_key()["mfa.Authenticator.data"]
    assert row["encrypted"] is True and row["encryption"] == "The secrets inside are encrypted"

    client.force_login(officer)
    page = client.get(reverse("admin:privacy_record_of_processing")).content.decode()
    assert "The secrets inside are encrypted" in page


def test_encrypted_means_the_field_class_encrypts():
    rows = fields_by_key()
    for entry in registry.entries():
        for name in entry.fields:
            row = rows[f"{entry.label}.{name}"]
            field = entry.model._meta.get_field(name)
            if isinstance(field, (EncryptedMixin, SignInEmailField)):
                assert row["encryption"] == "Encrypted", (entry.label, name)
            elif not (entry.model is Authenticator and name == "data"):
                assert row["encrypted"] is False and row["encryption"].startswith("Not encrypted"), (entry.label, name)
    assert rows["orders.Order.shipping_name"]["encryption"] == "Encrypted"
    # the sign-in email, ours and allauth's copy: sealed per person (privacy.protection.signin)
    assert rows["account.EmailAddress.email"]["encryption"] == rows["shop.User.email"]["encryption"] == "Encrypted"


def test_the_admin_home_links_the_record_for_those_who_may_read_it(client):
    client.force_login(staff_user("Privacy officer"))
    home = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:privacy_record_of_processing")}">Record of processing</a>' in home
    client.force_login(staff_user("Fulfilment"))
    home = client.get(reverse("admin:index")).content.decode()
    assert "Record of processing" not in home


def test_retention_never_reads_zero_days():
    text = " ".join(r for m in inventory()["models"] for r in m["retention"])
    assert "(0 days" not in text and "deleted at once" in text
