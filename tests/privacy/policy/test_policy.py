"""Policy versions: notice ahead, automatic switch at the effective date, archive, diff,
material-change emails and acknowledgements (P21)."""
from datetime import datetime, time, timedelta
from datetime import timezone as dt_tz

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from privacy.models import PolicyAcknowledgement, PolicyVersion
from privacy.policy import versions as policy
from shop.models import User
from tests.factories import UserFactory, staff_user

pytestmark = pytest.mark.django_db


def _next_monday() -> datetime:
    """A Monday 09:00 UTC at least a week after the real now, so that everything the migrations
    created at the real now (the default policy 1.0) already lies in the travelled past."""
    start = datetime.now(dt_tz.utc) + timedelta(days=7)
    day = start.date() + timedelta(days=(7 - start.weekday()) % 7)
    return datetime.combine(day, time(9, 0), tzinfo=dt_tz.utc)


MONDAY = _next_monday()


def day_after_monday(n: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """Midnight (or the given time) n calendar days after MONDAY."""
    return datetime.combine(MONDAY.date() + timedelta(days=n), time(hour, minute, second), tzinfo=dt_tz.utc)


def draft(**kw):
    return PolicyVersion.objects.create(version=kw.pop("version", "2.0"), body=kw.pop(
        "body", "## Who we are\n\nWe changed this sentence.\n\n## New section\n\nAbout parcels."), summary="Parcels.", **kw)


def test_the_shipped_default_policy_is_in_force_and_written_for_this_shop(client):
    page = client.get(reverse("privacy:policy")).content.decode()
    assert "Version 1.0" in page and "Privacy-first Shop is a small online shop." in page
    for section in ("What we collect and why", "Who else receives your data", "Cookies", "How to exercise your rights"):
        assert section in page
    assert "Stripe, Inc." in page and "sessionid" in page and reverse("privacy:dashboard") in page


def test_markdown_is_rendered_to_sanitised_html():
    html = policy.render("## Title\n\n<script>alert(1)</script> [x](javascript:alert(2)) **bold**")
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html


@pytest.mark.promise("P21")
def test_publishing_with_six_working_days_notice_is_refused():
    version = draft()
    with time_machine.travel(MONDAY, tick=False):
        six = day_after_monday(8, 9)  # Monday + 6 working days = the Tuesday after next
        with pytest.raises(policy.PolicyError, match="7 working days"):
            policy.publish(version=version, effective_at=six)
        assert PolicyVersion.objects.get(pk=version.pk).published_at is None
        seven = day_after_monday(9)
        policy.publish(version=version, effective_at=seven)
    assert PolicyVersion.objects.get(pk=version.pk).effective_at == seven


def test_the_admin_refuses_too_short_notice_with_a_clear_message(client):
    client.force_login(staff_user("Privacy officer"))
    version = draft()
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(reverse("admin:privacy_policyversion_publish", args=[version.pk]),
                               {"effective_at": day_after_monday(7, 9).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 400
    assert "needs 7 working days&#x27; notice" in response.content.decode()
    assert PolicyVersion.objects.get(pk=version.pk).published_at is None


@pytest.mark.promise("P21")
def test_the_new_version_is_announced_then_takes_effect_at_its_date_without_anyone_acting(client):
    version = draft()
    with time_machine.travel(MONDAY, tick=False):
        policy.publish(version=version, effective_at=day_after_monday(9))
        page = client.get("/").content.decode()
        assert "Our privacy policy changes on" in page
        assert f"{day_after_monday(9).day} {day_after_monday(9):%B %Y}" in page
        assert reverse("privacy:diff", args=["2.0"]) in page
        assert policy.current().version == "1.0"
        assert "Version 1.0" in client.get(reverse("privacy:policy")).content.decode()
    with time_machine.travel(day_after_monday(8, 23, 59), tick=False):
        assert policy.current().version == "1.0"
    with time_machine.travel(day_after_monday(9, 0, 0, 1), tick=False):
        assert policy.current().version == "2.0"
        page = client.get(reverse("privacy:policy")).content.decode()
        assert "Version 2.0" in page and "About parcels." in page
        assert "Our privacy policy changes on" not in client.get("/").content.decode()
        old = client.get(reverse("privacy:version", args=["1.0"])).content.decode()
        assert "Privacy-first Shop is a small online shop." in old  # past versions stay at stable URLs


def test_the_diff_shows_what_changes_escaped(client):
    version = draft(body="## Who we are\n\n<b>new</b> wording")
    with time_machine.travel(MONDAY, tick=False):
        policy.publish(version=version, effective_at=day_after_monday(10))
        page = client.get(reverse("privacy:diff", args=["2.0"])).content.decode()
    assert '<li class="added"><ins>&lt;b&gt;new&lt;/b&gt; wording</ins></li>' in page
    assert '<li class="removed"><del>' in page and "replacing version 1.0" in page


def test_published_versions_cannot_be_edited_and_drafts_are_not_public(client):
    officer = staff_user("Privacy officer")
    client.force_login(officer)
    current = PolicyVersion.objects.get(version="1.0")
    response = client.post(reverse("admin:privacy_policyversion_change", args=[current.pk]),
                           {"version": "1.0", "title": "Hacked", "body": "nothing"})
    assert response.status_code in (302, 403) and PolicyVersion.objects.get(pk=current.pk).title == "Privacy policy"
    draft(version="3.0-draft")
    assert Client().get(reverse("privacy:version", args=["3.0-draft"])).status_code == 404


@pytest.mark.promise("P21")
def test_a_material_change_emails_registered_users_and_asks_them_to_acknowledge(
        django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY - timedelta(days=22), tick=False):
        readers = [UserFactory() for _ in range(3)]
    version = draft(material=True)
    with time_machine.travel(MONDAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            policy.publish(version=version, effective_at=day_after_monday(9))
        assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in readers)
        assert "2.0" in mail.outbox[0].body and "Parcels." in mail.outbox[0].body
        assert PolicyVersion.objects.get(pk=version.pk).notified_at is not None
        client = Client()
        client.force_login(readers[0])
        assert "An important change to our privacy policy" in client.get("/").content.decode()
        client.post(reverse("privacy:acknowledge", args=["2.0"]), {"next": "/"})
        assert PolicyAcknowledgement.objects.filter(user=readers[0], policy=version).exists()
        assert "An important change" not in client.get("/").content.decode()
        other = Client()
        other.force_login(readers[1])
        assert "An important change" in other.get("/").content.decode()


@pytest.mark.promise("P21")
def test_sign_up_and_checkout_record_the_policy_version_shown(client, shopper, product):
    client.post(reverse("account_signup"), {"email": "p@example.com", "password1": "Walnut-lamp-2026!",
                                            "password2": "Walnut-lamp-2026!", "adult": "on",
                                            "policy_version": "1.0"})
    assert User.objects.get(email="p@example.com").signup_policy.version == "1.0"
    shopper.add(product)
    page = client.get(reverse("orders:checkout")).content.decode()
    assert 'name="policy_version" value="1.0"' in page
    reference = shopper.checkout(policy_version="1.0")["Location"].split("/")[2]
    from orders.models import Order

    assert Order.objects.get(reference=reference).policy.version == "1.0"
