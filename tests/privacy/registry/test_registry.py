import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from privacy.protection.crypto import encrypted
from privacy.registry import declarations as registry
from privacy.registry.checks import check_models


@pytest.mark.promise("P1")
def test_the_project_passes_the_registry_check():
    assert check_models(apps.get_models()) == []
    call_command("check", fail_level="ERROR")


@pytest.mark.promise("P1")
@isolate_apps("privacy")
def test_a_new_unregistered_model_fails_the_check():
    class LoyaltyCard(models.Model):
        holder_name = models.CharField(max_length=50)

        class Meta:
            app_label = "privacy"

    errors = check_models([LoyaltyCard])
    assert [e.id for e in errors] == ["privacy.E001"]
    assert errors[0].level >= 40  # an error, not a warning: the project will not start
    assert "privacy.LoyaltyCard is not in the personal-data registry" in errors[0].msg


@pytest.mark.promise("P1")
@pytest.mark.promise("P10")
@isolate_apps("privacy")
def test_unclassified_or_unencrypted_personal_fields_fail_the_check():
    class Newsletter(models.Model):
        user = models.ForeignKey("shop.User", on_delete=models.CASCADE)
        nickname = models.CharField(max_length=50)  # personal but stored in clear
        notes = encrypted(models.TextField())  # encrypted but nobody said what it is
        ip = models.GenericIPAddressField()  # not classified at all
        kind = models.CharField(max_length=10)

        class Meta:
            app_label = "privacy"

    registry.register(Newsletter, subject="user", purpose=registry.ProcessingPurpose.MARKETING,
                      legal_basis=registry.LegalBasis.CONSENT, plain=["kind"],
                      fields={"nickname": registry.Personal(registry.DataCategory.IDENTITY)})
    try:
        errors = {(e.id, e.msg) for e in check_models([Newsletter])}
    finally:
        registry.unregister(Newsletter)
    assert errors == {
        ("privacy.E003", "privacy.Newsletter.nickname is personal but not encrypted."),
        ("privacy.E004", "privacy.Newsletter.notes is not classified."),
        ("privacy.E004", "privacy.Newsletter.ip is not classified."),
    }


def test_every_registered_field_has_a_category_purpose_basis_and_erasure():
    for entry in registry.entries():
        assert entry.purpose in registry.ProcessingPurpose and entry.legal_basis in registry.LegalBasis
        assert entry.description, entry.label
        for name, personal in entry.fields.items():
            assert personal.category in registry.DataCategory, (entry.label, name)
            assert isinstance(personal.erase, (registry.Delete, registry.Anonymise, registry.Keep))


@pytest.mark.promise("P15")
@pytest.mark.promise("P23")
def test_privacy_inventory_lists_every_personal_model_with_purposes_and_recipients(capsys, db):
    call_command("privacy_inventory", format="json")
    data = json.loads(capsys.readouterr().out)
    labels = {m["model"] for m in data["models"]}
    assert {"orders.Order", "orders.Payment", "shop.User", "account.EmailAddress"} <= labels
    order = next(m for m in data["models"] if m["model"] == "orders.Order")
    assert order["legal_basis"] == "Performance of a contract"
    assert {"Identity (name)", "Postal address", "Contact details (email, phone)"} <= set(order["categories"])
    assert "Parcel carrier" in order["recipients"]
    stripe = next(p for p in data["processors"] if p["key"] == "stripe")
    assert (stripe["country"], stripe["receives"]) == (
        "US", ["order.currency", "order.reference", "order.total", "user.reference"])
    assert "Standard Contractual Clauses" in stripe["safeguard"]
    call_command("privacy_inventory")
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Record of processing")
    assert "| shipping_name | Identity (name) | Delivering your orders | anonymised | yes | yes |" in markdown


def test_record_of_processing_admin_page_is_for_privacy_officers(staff_client, db):
    from django.urls import reverse

    url = reverse("admin:privacy_record_of_processing")
    officer = staff_client("Privacy officer")
    page = officer.get(url)
    assert page.status_code == 200 and "Record of processing" in page.content.decode()
    assert "Parcel carrier" in page.content.decode()
    from tests.factories import staff_user

    officer.force_login(staff_user("Catalogue"))
    assert officer.get(url).status_code == 403
