"""A customer sees the data we hold, downloads it, deletes their account; after the grace
period the erasure runs and the account is gone, while the orders stay, anonymised (P17)."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order
from privacy.models import ExportJob, PrivacyRequest
from privacy.rights.erasure import erasure_run_due
from shop.models import User
from tests.factories import PASSWORD, OrderFactory, UserFactory

LOGIN_ERROR = "The email address and/or password you specified are not correct."


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    banner = page.locator("section.cookie-banner")
    if banner.count():  # answered once, so that it covers nothing in the screenshots
        banner.get_by_role("button", name="Reject all").click()
        expect(banner).to_have_count(0)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.promise("P17")
def test_customer_sees_downloads_and_erases_their_data(page, snap):
    user = UserFactory(email="mary@example.com")
    orders = [OrderFactory(user=user, email=user.email, status=Order.Status.COMPLETED, shipping_name="Mary Somerville",
                           total=Decimal(total), subtotal=Decimal(total)) for total in ("19.99", "42.00")]
    stranger = OrderFactory(email="other@example.com", status=Order.Status.COMPLETED, shipping_name="Other Person")

    # Sign in through the form.
    sign_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")

    # Your account → Privacy: the data we hold, with the orders.
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Privacy").click()
    expect(page).to_have_url(re.compile(r"/account/privacy/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your privacy")
    expect(page.get_by_role("heading", name="Your orders", exact=True)).to_be_visible()
    orders_section = page.locator("section#orders", has=page.get_by_role("heading", name=re.compile("^Order")))
    expect(orders_section.first).to_contain_text("Mary Somerville")
    expect(page.locator("main")).not_to_contain_text("Other Person")
    snap(page, "dashboard")

    # Download my data: eager Celery builds the archive during the request.
    page.get_by_role("button", name="Download my data").click()
    expect(page).to_have_url(re.compile(r"/account/privacy/#downloads$"))
    download_link = page.get_by_role("link", name=re.compile(r"^Download \("))
    progress = page.locator("#downloads ~ p.card progress")
    expect(download_link.or_(progress).first).to_be_visible()
    expect(download_link).to_be_visible(timeout=15_000)  # the page refreshes itself while preparing
    job = ExportJob.objects.get(user=user)
    assert job.status == ExportJob.Status.READY and job.progress == 100, (job.status, job.progress)
    snap(page, "download-ready")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert re.fullmatch(r"my-data-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename), download.suggested_filename
    with open(download.path(), "rb") as fh:
        archive = zipfile.ZipFile(io.BytesIO(fh.read()))
    assert "data.json" in archive.namelist(), archive.namelist()
    doc = json.loads(archive.read("data.json"))
    assert doc["schema_version"] == 1
    assert doc["subject"] == {"kind": "user"}
    exported_orders = doc["models"]["orders.Order"]["records"]
    assert sorted(o["reference"] for o in exported_orders) == sorted(o.reference for o in orders)
    assert stranger.reference not in json.dumps(doc)

    # Delete my account: a wrong password changes nothing, the right one schedules it.
    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete my account")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("That password is not right; nothing was changed.")
    assert not PrivacyRequest.objects.filter(user=user, kind=PrivacyRequest.Kind.ERASURE).exists()
    page.get_by_label("Password").fill(PASSWORD)
    snap(page, "delete-account")
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/account/privacy/$"))
    expect(page.locator(".message-warning[role=status]")).to_contain_text("Your account is scheduled for deletion on")
    expect(page.get_by_role("button", name="Cancel the deletion")).to_be_visible()
    snap(page, "deletion-scheduled")
    request = PrivacyRequest.objects.get(user=user, kind=PrivacyRequest.Kind.ERASURE)
    assert request.status == PrivacyRequest.Status.SCHEDULED

    # Nothing happens during the grace period; after it, the daily job erases the account.
    assert erasure_run_due() == 0
    assert User.objects.filter(pk=user.pk).exists()
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=True):
        assert erasure_run_due() == 1

    # The browser's session went with the account; signing in again fails.
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in(page, "mary@example.com", PASSWORD)
    expect(page.get_by_text(LOGIN_ERROR)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    snap(page, "sign-in-fails")

    # The database agrees: the person is gone, the orders stay with their amounts.
    assert not User.objects.filter(pk=user.pk).exists()
    assert not User.objects.filter(email="mary@example.com").exists()
    for before in orders:
        after = Order.objects.get(pk=before.pk)
        assert after.anonymised_at is not None
        assert after.user_id is None
        assert after.total == before.total and after.subtotal == before.subtotal
        assert after.reference == before.reference
        assert after.email != "mary@example.com" and after.shipping_name != "Mary Somerville"
    untouched = Order.objects.get(pk=stranger.pk)
    assert untouched.anonymised_at is None and untouched.shipping_name == "Other Person"
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED
