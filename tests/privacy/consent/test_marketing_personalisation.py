import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from privacy.consent import ledger as consent
from privacy.consent import marketing
from privacy.models import ConsentRecord, ConsentText, MarketingSubscriber
from privacy.rights.restriction import restriction_start
from shop.models import BrowsingEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
P = ConsentRecord.Purpose


def link(message, kind):
    return re.search(rf"(http://127.0.0.1:8000/privacy/emails/{kind}/[^\s]+/)", message.body).group(1).replace(
        "http://127.0.0.1:8000", "")


@pytest.mark.promise("P8")
def test_marketing_is_double_opt_in_from_checkout(client, shopper, product, django_capture_on_commit_callbacks):
    shopper.add(product)
    with django_capture_on_commit_callbacks(execute=True):
        shopper.checkout(marketing="on", email="fan@example.com")
    subscriber = MarketingSubscriber.objects.get()
    assert not subscriber.active
    assert not marketing.send_marketing(subscriber=subscriber, subject="Spring", body="New lamps")  # not confirmed
    confirm = next(m for m in mail.outbox if "Please confirm" in m.subject)
    assert confirm.to == ["fan@example.com"]
    scanner = Client().get(link(confirm, "confirm"))  # a mail scanner opening the link
    assert scanner.status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.active
    Client().post(link(confirm, "confirm"))  # the person presses the button
    subscriber.refresh_from_db()
    assert subscriber.active
    assert [(r.granted, r.channel) for r in ConsentRecord.objects.order_by("at", "pk")] == [
        (True, "checkout"), (True, "email_link")]
    record = ConsentRecord.objects.first()
    assert ConsentText.objects.get(hash=record.text_hash).text == consent.TEXTS[P.MARKETING_EMAIL]


@pytest.mark.promise("P8")
def test_no_marketing_without_the_box_ticked(client, shopper, product, django_capture_on_commit_callbacks):
    shopper.add(product)
    with django_capture_on_commit_callbacks(execute=True):
        shopper.checkout(email="quiet@example.com")
    assert not MarketingSubscriber.objects.exists()
    assert not any("confirm" in m.subject.lower() for m in mail.outbox)


@pytest.fixture
def subscriber(db):
    s = MarketingSubscriber.objects.create(email="fan@example.com", email_index="x" * 64, token="tok" * 8)
    consent.record(purpose=P.MARKETING_EMAIL, granted=True, channel="checkout", subscriber=s)
    marketing.subscribe_confirm(token=s.token)
    s.refresh_from_db()
    return s


@pytest.mark.promise("P8")
def test_every_marketing_email_has_one_click_unsubscribe_that_works_without_signing_in(subscriber):
    assert marketing.send_marketing(subscriber=subscriber, subject="Spring", body="New lamps")
    message = mail.outbox[-1]
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.body
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(url.replace("http://127.0.0.1:8000", ""), "List-Unsubscribe=One-Click",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    assert not marketing.send_marketing(subscriber=subscriber, subject="Summer", body="More lamps")
    assert len(mail.outbox) == 1


def test_an_unsubscribe_link_opened_by_a_link_scanner_changes_nothing(subscriber):
    page = Client().get(reverse("privacy:unsubscribe", args=[subscriber.token]))
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None
    assert Client().post(reverse("privacy:unsubscribe", args=["not-a-token"])).status_code == 404


@pytest.mark.promise("P8")
@pytest.mark.promise("P17")
def test_restricted_or_objecting_users_never_receive_marketing(signed_in, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("privacy:consent_update"), {"marketing_email": "on"})
    subscriber = MarketingSubscriber.objects.get(user=user)
    marketing.subscribe_confirm(token=subscriber.token)
    subscriber.refresh_from_db()
    assert marketing.may_receive(subscriber)
    restriction_start(user=user)
    subscriber.user.refresh_from_db()
    assert not marketing.may_receive(MarketingSubscriber.objects.get(pk=subscriber.pk))
    from privacy.rights.restriction import restriction_lift

    restriction_lift(user=user)
    signed_in.post(reverse("privacy:consent_update"), {})  # the objection: both switches off
    assert not marketing.may_receive(MarketingSubscriber.objects.get(pk=subscriber.pk))
    assert ConsentRecord.objects.filter(user=user, purpose=P.MARKETING_EMAIL).first().granted is False


@pytest.mark.promise("P29")
def test_without_consent_browsing_is_not_recorded_and_nothing_is_recommended(signed_in, catalogue):
    signed_in.get(catalogue[0].get_absolute_url())
    assert not BrowsingEvent.objects.exists()
    assert "Recommended for you" not in signed_in.get("/").content.decode()


@pytest.mark.promise("P29")
@pytest.mark.promise("P27")
def test_with_consent_recommendations_come_from_my_history_and_withdrawal_deletes_it(signed_in, user, catalogue):
    signed_in.post(reverse("privacy:consent_update"), {"personalisation": "on"})
    kitchen = [p for p in catalogue if p.category.slug == "kitchen"]
    signed_in.get(kitchen[0].get_absolute_url())
    signed_in.get(kitchen[1].get_absolute_url())
    home = signed_in.get("/")
    assert [p.pk for p in home.context["recently_viewed"]] == [kitchen[1].pk, kitchen[0].pk]
    recommended = home.context["recommended"]
    assert recommended and {p.category.slug for p in recommended} == {"kitchen"}
    assert not {kitchen[0].pk, kitchen[1].pk} & {p.pk for p in recommended}
    other = Client()
    other.force_login(UserFactory())
    assert "Recently viewed" not in other.get("/").content.decode()  # my history is mine only
    signed_in.post(reverse("privacy:consent_update"), {})
    assert not BrowsingEvent.objects.filter(user=user).exists()
    signed_in.get(kitchen[2].get_absolute_url())
    assert not BrowsingEvent.objects.exists()
    assert "Recommended for you" not in signed_in.get("/").content.decode()
    assert [r.granted for r in ConsentRecord.objects.filter(user=user, purpose=P.PERSONALISATION).order_by("at", "pk")] \
        == [True, False]


def test_restriction_pauses_personalisation_at_once(signed_in, user, catalogue):
    signed_in.post(reverse("privacy:consent_update"), {"personalisation": "on"})
    restriction_start(user=user)
    signed_in.get(catalogue[0].get_absolute_url())
    assert not BrowsingEvent.objects.exists()
