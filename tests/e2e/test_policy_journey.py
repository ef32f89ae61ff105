"""A material policy change is announced ahead (at least 7 working days), shown with its
line-by-line changes, and each registered user is asked to acknowledge it (P21)."""
from __future__ import annotations

import re
from datetime import datetime, time

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from privacy.models import PolicyAcknowledgement, PolicyVersion
from privacy.policy import versions as policy
from tests.factories import PASSWORD, UserFactory

ADDED = "We now give the carrier your postcode so that you can track your parcel."


@pytest.mark.promise("P21")
def test_customer_is_told_of_a_material_policy_change_and_acknowledges_it(page, snap):
    current = policy.current()
    if current is None:  # the data migration's version 1.0 does not survive a flushed database
        now = timezone.now()
        current = PolicyVersion.objects.create(version="1.0", body="## Who we are\n\nA small shop.\n",
                                               published_at=now, effective_at=now)
    user = UserFactory(email="ada@example.com")  # registered before the change is published

    new = PolicyVersion.objects.create(
        version="2.0", body=current.body.rstrip() + f"\n\n## Parcel tracking\n\n{ADDED}\n",
        summary="Parcel tracking: the carrier receives your postcode.", material=True)
    # One working day more than the minimum notice (so a midnight during the test cannot make it too short).
    minimum = policy.earliest_effective()
    effective = timezone.make_aware(datetime.combine(policy.add_working_days(minimum.date(), 1), time.min))
    assert (effective.date() - timezone.localdate()).days >= 8
    published = policy.publish(version=new, effective_at=effective)
    assert published.published_at is not None and policy.upcoming() == published
    assert any(m.to == [user.email] and "privacy policy changes" in m.subject for m in mail.outbox), \
        [(m.to, m.subject) for m in mail.outbox]

    # The customer signs in; every page announces the change and asks for acknowledgement.
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    page.goto("/")
    notice = page.get_by_role("region", name="Privacy policy change", exact=True)
    date_text = f"{effective.day} {effective:%B %Y}"
    expect(notice).to_contain_text(f"Our privacy policy changes on {date_text}")
    expect(notice.get_by_role("link", name="Read the new version")).to_have_attribute(
        "href", "/privacy/versions/2.0/")
    material = page.get_by_role("region", name="Important privacy policy change")
    expect(material).to_be_visible()
    expect(material.get_by_role("button", name="I have read it")).to_be_visible()
    snap(page, "home-with-notices")

    # What changes: the added lines, marked as insertions.
    notice.get_by_role("link", name="See what changes").click()
    expect(page).to_have_url(re.compile(r"/privacy/versions/2\.0/changes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("What changes in privacy policy 2.0")
    expect(page.locator("main")).to_contain_text(f"Takes effect on {effective:%A} {date_text}")
    expect(page.locator("main")).to_contain_text("replacing version " + current.version)
    added = page.locator("ol.policy-diff li.added")
    expect(added.filter(has_text=ADDED)).to_have_count(1)
    expect(added.filter(has_text="## Parcel tracking")).to_have_count(1)
    expect(page.locator("ol.policy-diff li.removed")).to_have_count(0)
    expect(page.locator("ol.policy-diff li.added ins").first).to_be_visible()
    snap(page, "diff")

    # "I have read it": recorded, and the request to acknowledge goes away.
    page.get_by_role("region", name="Important privacy policy change").get_by_role(
        "button", name="I have read it").click()
    expect(page).to_have_url(re.compile(r"/privacy/versions/2\.0/changes/$"))  # back where they were
    expect(page.locator(".message-success")).to_contain_text("noted that you have seen the policy change")
    expect(page.get_by_role("region", name="Important privacy policy change")).to_have_count(0)
    expect(page.get_by_role("region", name="Privacy policy change", exact=True)).to_be_visible()  # still announced
    page.goto("/")
    expect(page.get_by_role("region", name="Important privacy policy change")).to_have_count(0)
    snap(page, "home-after-acknowledgement")
    ack = PolicyAcknowledgement.objects.get(user=user)
    assert ack.policy_id == new.pk
    assert policy.current() == current  # the new version is not in force before its date
