"""Global Privacy Control (P19): declared at /.well-known/gpc.json, and respected: a visitor whose
browser sends the signal and who turns on, on purpose, something the signal refuses is asked once
more; only that second "yes" turns it on, and the ledger records it as a choice against the signal."""
import json
from datetime import date

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from privacy.consent import ledger
from privacy.consent.ledger import CONSENT_COOKIE
from privacy.models import ConsentRecord, ConsentText, MarketingSubscriber
from shop.models import BrowsingEvent
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
P = ConsentRecord.Purpose
GPC = {"HTTP_SEC_GPC": "1"}


@pytest.mark.promise("P19")
def test_well_known_gpc_json_declares_support_and_is_cacheable_without_cookies(db):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"gpc", "lastUpdate"} and body["gpc"] is True
    date.fromisoformat(body["lastUpdate"])  # an ISO date, as the specification asks
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"] and "private" not in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie, no consent cookie
    assert client.head("/.well-known/gpc.json").status_code == 200
    assert Client().post("/.well-known/gpc.json").status_code == 405  # read-only


@pytest.mark.promise("P19")
def test_gpc_json_last_update_is_a_constant_not_todays_date(db):
    from privacy.consent.views import GPC_LAST_UPDATE

    body = json.loads(Client().get("/.well-known/gpc.json").content)
    assert body["lastUpdate"] == GPC_LAST_UPDATE
    assert date.fromisoformat(GPC_LAST_UPDATE) <= date.today()


def campaign_cookie_set(client, product) -> bool:
    response = client.get(product.get_absolute_url() + "?utm_campaign=spring")
    return "mkt_campaign" in response.cookies and response.cookies["mkt_campaign"].value == "spring"


def tick_marketing(client, **extra):
    return client.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on", "marketing": "on",
                                                    "next": "/", **extra})


@pytest.mark.promise("P19")
def test_gpc_visitor_ticking_marketing_is_asked_once_more_and_nothing_changes_before(product):
    client = Client(**GPC)
    settings_page = client.get(reverse("privacy:cookies")).content.decode()
    assert 'name="marketing"' in settings_page and "asks you to confirm" in settings_page
    page = tick_marketing(client)
    body = page.content.decode()
    assert page.status_code == 200 and "<h1>Your browser asked us not to</h1>" in body
    assert "Global Privacy Control" in body and escape(ledger.gpc_confirm_text(P.MARKETING_COOKIES)) in body
    assert "Turn on anyway" in body and "Keep it off" in body and "<script" not in body
    assert not ConsentRecord.objects.exists()  # nothing recorded, not even the analytics choice
    assert CONSENT_COOKIE not in page.cookies
    assert not campaign_cookie_set(client, product)


@pytest.mark.promise("P19")
def test_the_second_yes_turns_marketing_on_and_the_ledger_says_it_was_against_the_signal(product):
    client = Client(**GPC)
    before = ledger.gpc_confirm_hash(P.MARKETING_COOKIES)
    response = tick_marketing(client, gpc_confirm=before)
    assert response.status_code == 302
    record = ConsentRecord.objects.get(purpose=P.MARKETING_COOKIES)
    assert (record.granted, record.against_gpc, record.channel) == (True, True, "settings")
    assert record.text_hash == before and record.at is not None
    assert ConsentText.objects.get(hash=record.text_hash).text == ledger.gpc_confirm_text(P.MARKETING_COOKIES)
    analytics = ConsentRecord.objects.get(purpose=P.ANALYTICS)
    assert (analytics.granted, analytics.against_gpc) == (True, False)  # the signal does not refuse it
    assert campaign_cookie_set(client, product)  # the choice holds while the browser still sends GPC
    # saving the same choices again neither asks again nor records anything new
    assert tick_marketing(client).status_code == 302
    assert ConsentRecord.objects.count() == 3
    # turning it off again: recorded, and the campaign cookie goes
    client.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on", "next": "/"})
    latest = ConsentRecord.objects.filter(purpose=P.MARKETING_COOKIES).first()
    assert (latest.granted, latest.against_gpc) == (False, False)
    assert not campaign_cookie_set(client, product)


@pytest.mark.promise("P19")
def test_keeping_it_off_saves_the_other_choices_and_never_marketing(product):
    client = Client(**GPC)
    client.post(reverse("privacy:cookies"), {"action": "save", "analytics": "on", "next": "/"})  # the "keep off" form
    assert not ConsentRecord.objects.filter(granted=True, purpose=P.MARKETING_COOKIES).exists()
    assert not ConsentRecord.objects.filter(against_gpc=True).exists()
    assert ConsentRecord.objects.get(purpose=P.ANALYTICS).granted is True
    assert not campaign_cookie_set(client, product)


@pytest.mark.promise("P19")
def test_a_forged_or_outdated_confirmation_asks_again_and_records_nothing(product, monkeypatch):
    client = Client(**GPC)
    assert "Turn on anyway" in tick_marketing(client, gpc_confirm="0123456789abcdef").content.decode()
    shown = ledger.gpc_confirm_hash(P.MARKETING_COOKIES)
    monkeypatch.setitem(ledger.GPC_REFUSES, P.MARKETING_COOKIES, "marketing cookies, reworded")
    assert "Turn on anyway" in tick_marketing(client, gpc_confirm=shown).content.decode()
    assert not ConsentRecord.objects.exists()
    assert not campaign_cookie_set(client, product)


@pytest.mark.promise("P19")
def test_accept_all_never_overrides_the_signal(product):
    client = Client(**GPC)
    response = client.post(reverse("privacy:cookies"), {"action": "accept_all", "next": "/"})
    assert response.status_code == 302  # no second question: the signal simply wins
    record = ConsentRecord.objects.get(purpose=P.MARKETING_COOKIES)
    assert (record.granted, record.channel, record.against_gpc) == (False, "gpc", False)
    assert not campaign_cookie_set(client, product)


@pytest.mark.promise("P19")
def test_without_gpc_the_flow_is_one_step_as_before(product):
    client = Client()
    response = tick_marketing(client)
    assert response.status_code == 302
    record = ConsentRecord.objects.get(purpose=P.MARKETING_COOKIES)
    assert (record.granted, record.against_gpc, record.text_hash) == (True, False, ledger.text_hash(P.MARKETING_COOKIES))
    assert campaign_cookie_set(client, product)
    # the same browser later sends GPC: the earlier "yes" was not against the signal, so it no longer counts
    client.defaults.update(GPC)
    assert not campaign_cookie_set(client, product)
    assert "Turn on anyway" in tick_marketing(client).content.decode()


@pytest.mark.promise("P19")
@pytest.mark.promise("P29")
def test_dashboard_personalisation_under_gpc_needs_the_second_yes(user, catalogue):
    client = Client(**GPC)
    client.force_login(user)
    page = client.post(reverse("privacy:consent_update"), {"personalisation": "on"})
    assert page.status_code == 200 and escape(ledger.gpc_confirm_text(P.PERSONALISATION)) in page.content.decode()
    assert not ConsentRecord.objects.filter(user=user).exists()
    client.get(catalogue[0].get_absolute_url())
    assert not BrowsingEvent.objects.exists()  # not on: nothing of the browsing is kept
    client.post(reverse("privacy:consent_update"), {"personalisation": "on",
                                                    "gpc_confirm": ledger.gpc_confirm_hash(P.PERSONALISATION)})
    record = ConsentRecord.objects.get(user=user, purpose=P.PERSONALISATION)
    assert (record.granted, record.against_gpc, record.channel) == (True, True, "dashboard")
    assert record.text_hash == ledger.gpc_confirm_hash(P.PERSONALISATION)
    client.get(catalogue[0].get_absolute_url())
    assert BrowsingEvent.objects.filter(user=user).count() == 1


@pytest.mark.promise("P19")
@pytest.mark.promise("P8")
def test_dashboard_marketing_email_under_gpc_sends_nothing_until_confirmed(user, django_capture_on_commit_callbacks):
    client = Client(**GPC)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("privacy:consent_update"), {"marketing_email": "on"})
    assert "Turn on anyway" in page.content.decode()
    assert not MarketingSubscriber.objects.exists() and not mail.outbox and not ConsentRecord.objects.exists()
    # "Keep it off" posts the form without the refused choice: nothing at all
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:consent_update"), {})
    assert not MarketingSubscriber.objects.exists() and not mail.outbox and not ConsentRecord.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:consent_update"), {"marketing_email": "on",
                                                        "gpc_confirm": ledger.gpc_confirm_hash(P.MARKETING_EMAIL)})
    record = ConsentRecord.objects.get(user=user, purpose=P.MARKETING_EMAIL)
    assert (record.granted, record.against_gpc) == (True, True)
    assert MarketingSubscriber.objects.filter(user=user).exists() and len(mail.outbox) == 1  # the double opt-in link


@pytest.mark.promise("P19")
def test_without_gpc_the_dashboard_is_one_step(user):
    client = Client()
    client.force_login(user)
    assert client.post(reverse("privacy:consent_update"), {"personalisation": "on"}).status_code == 302
    record = ConsentRecord.objects.get(user=user, purpose=P.PERSONALISATION)
    assert (record.granted, record.against_gpc) == (True, False)


@pytest.mark.promise("P19")
def test_staff_see_in_the_ledger_which_grants_were_against_the_signal(client, user):
    ledger.record(purpose=P.PERSONALISATION, granted=True, channel="dashboard", user=user, against_gpc=True)
    ledger.record(purpose=P.ANALYTICS, granted=True, channel="banner", user=user)
    client.force_login(staff_user(is_superuser=True))
    page = client.get(reverse("admin:privacy_consentrecord_changelist"), {"against_gpc__exact": "1"})
    assert page.status_code == 200
    assert "Against gpc" in page.content.decode()
    assert [r.purpose for r in page.context["cl"].result_list] == [P.PERSONALISATION]


@pytest.mark.promise("P19")
@pytest.mark.promise("P9")
def test_the_policy_and_the_privacy_page_explain_gpc_and_the_statistics_threshold(user):
    policy = Client().get(reverse("privacy:policy")).content.decode()
    assert "/.well-known/gpc.json" in policy and "we ask you once more" in policy
    assert "fewer than 5" in policy and "subtraction" in policy
    client = Client(**GPC)
    client.force_login(user)
    page = client.get(reverse("privacy:dashboard")).content.decode()
    assert "Your browser sends this signal now" in page and "against the signal" in page
    assert "fewer than 5" in page
    client = Client()
    client.force_login(user)
    assert "When your browser sends this signal" in client.get(reverse("privacy:dashboard")).content.decode()


# --- the newsletter box of checkout and sign-up (privacy.consent.MarketingTickForm) ----------------

MARKETING_QUESTION = escape(ledger.gpc_confirm_text(P.MARKETING_EMAIL))


@pytest.mark.promise("P19")
@pytest.mark.promise("P8")
def test_a_gpc_shopper_ticking_the_newsletter_at_checkout_is_asked_once_more(product, django_capture_on_commit_callbacks):
    from tests.conftest import Shopper

    shopper = Shopper(Client(**GPC))
    shopper.add(product)
    with django_capture_on_commit_callbacks(execute=True):
        page = shopper.checkout(marketing="on")
    assert page.status_code == 400 and MARKETING_QUESTION in page.content.decode()
    # nothing happened yet: no order, no subscriber, no ledger line, no email
    from orders.models import Order
    assert not Order.objects.exists() and not MarketingSubscriber.objects.exists()
    assert not ConsentRecord.objects.exists() and mail.outbox == []
    # sent again with the box still ticked (the page carries the confirmation): the order and the subscription
    with django_capture_on_commit_callbacks(execute=True):
        done = shopper.checkout(marketing="on", gpc_confirm=ledger.gpc_confirm_hash(P.MARKETING_EMAIL))
    assert done.status_code == 302 and Order.objects.count() == 1
    record = ConsentRecord.objects.get(purpose=P.MARKETING_EMAIL)
    assert record.granted and record.against_gpc and record.channel == ConsentRecord.Channel.CHECKOUT
    assert [m.to for m in mail.outbox if "confirm" in m.subject.lower()] == [["guest@example.com"]]


@pytest.mark.promise("P19")
def test_a_gpc_shopper_unticking_the_box_orders_without_marketing(product):
    from orders.models import Order
    from tests.conftest import Shopper

    shopper = Shopper(Client(**GPC))
    shopper.add(product)
    assert shopper.checkout(marketing="on").status_code == 400
    assert shopper.checkout().status_code == 302  # unticked: straight on
    assert Order.objects.count() == 1 and not MarketingSubscriber.objects.exists()
    assert not ConsentRecord.objects.filter(purpose=P.MARKETING_EMAIL).exists()


@pytest.mark.promise("P19")
def test_checkout_without_gpc_subscribes_in_one_step_as_before(product):
    from tests.conftest import Shopper

    shopper = Shopper(Client())
    shopper.add(product)
    assert shopper.checkout(marketing="on").status_code == 302
    record = ConsentRecord.objects.get(purpose=P.MARKETING_EMAIL)
    assert record.granted and not record.against_gpc


@pytest.mark.promise("P19")
def test_a_gpc_visitor_signing_up_with_the_newsletter_box_is_asked_once_more(db):
    from shop.models import User

    client = Client(**GPC)
    data = {"email": "ada@example.com", "password1": "Walnut-lamp-2026!", "password2": "Walnut-lamp-2026!",
            "adult": "on", "marketing": "on"}
    page = client.post(reverse("account_signup"), data)
    assert page.status_code == 200 and MARKETING_QUESTION in page.content.decode()
    assert not User.objects.exists() and not MarketingSubscriber.objects.exists()
    response = client.post(reverse("account_signup"), {**data, "gpc_confirm": ledger.gpc_confirm_hash(P.MARKETING_EMAIL)})
    assert response.status_code == 302 and User.objects.count() == 1
    record = ConsentRecord.objects.get(purpose=P.MARKETING_EMAIL)
    assert record.granted and record.against_gpc and record.channel == ConsentRecord.Channel.SIGNUP
