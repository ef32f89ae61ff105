"""Limits on what one client can make the shop do (privacy/protection/throttle.py, allauth's
ACCOUNT_RATE_LIMITS, config/limits_middleware.py).

Every endpoint that sends an email, builds an export or checks a password or code answers 429
with the shop's page once its limit is reached, and then sends, writes and builds nothing.
Behind the TLS proxy (every request from 127.0.0.1) the client is what the proxy reports, so
one client's limit never blocks another; one address's lockout never blocks another address.
The clock is frozen in each test, so no limit window turns over half-way through one.
"""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.usersessions.models import UserSession
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from orders import support
from orders.links import thread_link
from orders.models import Attachment, SupportMessage, SupportThread
from privacy.models import ExportJob, MarketingSubscriber, PrivacyRequest
from privacy.protection.throttle import client_ip
from shop.hashers import TestArgon2PasswordHasher
from shop.models import User
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, enable_mfa

pytestmark = pytest.mark.django_db
PROXY = "127.0.0.1"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        yield clock


@pytest.fixture(autouse=True)
def behind_proxy(settings):
    """The documented production set-up: one TLS proxy of ours, appending to X-Forwarded-For."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None


def visitor(ip: str, claimed: str = "") -> Client:
    """A browser at `ip`, reaching the shop through the proxy (which appends `ip`)."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{claimed}, {ip}" if claimed else ip)


def member(ip: str, user=None) -> Client:
    client = visitor(ip)
    client.force_login(user or UserFactory())
    return client


def assert_limited(response):
    assert response.status_code == 429
    page = response.content.decode()
    assert "<h1>Too many requests</h1>" in page and "nothing was sent, saved or changed" in page
    assert 'class="site-header"' in page and "Privacy-first Shop" in page  # the shop's layout


def assert_our_limited_page(response):
    assert_limited(response)
    assert 0 < int(response["Retry-After"]) <= 3600


def cache_keys() -> list[str]:
    backend = cache._cache
    if hasattr(backend, "get_client"):  # Redis
        return [k.decode() for k in backend.get_client().keys("*")]
    return list(backend.keys())  # local memory


# --- the client IP behind the proxy ---------------------------------------------------------

@pytest.mark.promise("P28")
def test_the_client_is_what_our_proxy_reports_cut_to_its_network(settings):
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.23")) == "198.51.100.0"
    # Entries left of the proxy's own are the client's claims: never believed.
    spoofed = factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.23")
    assert client_ip(spoofed) == "198.51.100.0"
    assert client_ip(factory.get("/", REMOTE_ADDR="2001:db8:aa:bb::7")) == "2001:db8:aa::"
    for garbage in ("not-an-ip", "", ", ,", "<script>"):  # no usable report: the peer itself
        assert client_ip(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=garbage)) == "127.0.0.0"
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.9",
                                 HTTP_X_FORWARDED_FOR="192.0.2.1")) == "203.0.113.0"
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER, settings.ALLAUTH_TRUSTED_PROXY_COUNT = None, 0
    # Without a proxy configured the header is the client's own claim: ignored.
    assert client_ip(factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1")) == "203.0.113.0"


@pytest.mark.promise("P28")
def test_the_session_list_keeps_the_clients_network_not_the_proxys(user, password):
    browser = visitor("203.0.113.77")
    browser.post(reverse("account_login"), {"login": user.email, "password": password})
    browser.get(reverse("account:center"))
    assert UserSession.objects.get(user=user).ip == "203.0.113.0"


def test_limit_keys_hold_neither_the_address_nor_the_whole_ip(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert visitor("203.0.113.77").post(reverse("privacy:guest_export"),
                                            {"email": "Victim@Example.com"}).status_code == 200
    keys = " ".join(cache_keys()).lower()
    assert keys  # the request was counted
    for value in ("victim@example.com", hashlib.sha256(b"victim@example.com").hexdigest(), "203.0.113.77"):
        assert value not in keys


# --- guest data requests ------------------------------------------------------------------

def test_guest_data_requests_stop_mailing_an_address_after_three(django_capture_on_commit_callbacks, frozen):
    url = reverse("privacy:guest_export")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):  # from three different networks: the address's own limit
            assert visitor(f"198.51.{n}.10").post(url, {"email": "victim@example.com"}).status_code == 200
        blocked = visitor("198.51.9.10").post(url, {"email": "VICTIM@example.com "})
    assert_our_limited_page(blocked)
    assert [m.to for m in mail.outbox] == [["victim@example.com"]] * 3
    assert PrivacyRequest.objects.filter(kind="access").count() == 1  # asked again: the open one is reused
    with django_capture_on_commit_callbacks(execute=True):  # another address from that network: fine
        assert visitor("198.51.9.10").post(url, {"email": "someone@example.com"}).status_code == 200
    assert mail.outbox[-1].to == ["someone@example.com"]
    frozen.shift(timedelta(hours=1, seconds=1))
    with django_capture_on_commit_callbacks(execute=True):  # the limit lifts after its hour
        assert visitor("198.51.9.10").post(url, {"email": "victim@example.com"}).status_code == 200
    assert len(mail.outbox) == 5


def test_one_network_sending_guest_data_requests_is_stopped_and_others_are_not(django_capture_on_commit_callbacks):
    url = reverse("privacy:guest_export")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            assert visitor("203.0.113.5").post(url, {"email": f"target{n}@example.com"}).status_code == 200
        assert_our_limited_page(visitor("203.0.113.5").post(url, {"email": "target10@example.com"}))
        # Claiming to be someone else in X-Forwarded-For does not get round it.
        assert_our_limited_page(visitor("203.0.113.5", claimed="192.0.2.44").post(url, {"email": "t11@example.com"}))
        assert visitor("192.0.2.44").post(url, {"email": "target10@example.com"}).status_code == 200
    assert len(mail.outbox) == 11 and PrivacyRequest.objects.count() == 11
    assert not [m for m in mail.outbox if m.to in (["target11@example.com"], ["t11@example.com"])]


def test_a_limited_get_still_shows_the_form():
    client = visitor("203.0.113.5")
    for n in range(11):
        client.post(reverse("privacy:guest_export"), {"email": f"t{n}@example.com"})
    assert client.get(reverse("privacy:guest_export")).status_code == 200


# --- privacy contact and customer service -------------------------------------------------

def test_the_privacy_contact_acknowledges_an_address_five_times_an_hour(django_capture_on_commit_callbacks):
    url = reverse("privacy:contact")
    body = {"kind": "question", "email": "victim@example.com", "message": "What do you hold about me?"}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            assert visitor(f"198.51.{n}.1").post(url, body).status_code == 200
        assert_our_limited_page(visitor("198.51.7.1").post(url, body))
    assert len(mail.outbox) == 5 and PrivacyRequest.objects.count() == 5


def test_a_member_writing_to_the_privacy_contact_is_limited_by_their_own_address(django_capture_on_commit_callbacks):
    user = UserFactory()
    body = {"kind": "question", "message": "A question"}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            assert member(f"198.51.{n}.1", user).post(reverse("privacy:contact"), body).status_code == 200
        assert_our_limited_page(member("198.51.8.1", user).post(reverse("privacy:contact"), body))
        assert member("198.51.8.1").post(reverse("privacy:contact"), body).status_code == 200  # someone else
    assert PrivacyRequest.objects.filter(user=user).count() == 5 and len(mail.outbox) == 6


def test_customer_service_takes_five_new_conversations_an_hour_per_address():
    url = reverse("orders:support")
    for n in range(5):
        response = visitor(f"198.51.{n}.1").post(url, {"email": "victim@example.com", "subject": f"Hi {n}",
                                                      "message": "Hello", "files": [SimpleUploadedFile("a.png", PNG)]})
        assert response.status_code == 200
    blocked = visitor("198.51.9.1").post(url, {"email": "victim@example.com", "subject": "Again", "message": "x",
                                               "files": [SimpleUploadedFile("a.png", PNG)]})
    assert_our_limited_page(blocked)
    assert SupportThread.objects.count() == 5 and Attachment.objects.count() == 5


def test_customer_service_takes_ten_new_conversations_an_hour_per_network():
    url = reverse("orders:support")
    for n in range(10):
        assert visitor("203.0.113.5").post(url, {"email": f"g{n}@example.com", "subject": "Hi",
                                                 "message": "x"}).status_code == 200
    assert_our_limited_page(visitor("203.0.113.5").post(url, {"email": "g10@example.com", "subject": "Hi",
                                                              "message": "x"}))
    assert visitor("192.0.2.1").post(url, {"email": "g10@example.com", "subject": "Hi", "message": "x"}).status_code == 200
    assert SupportThread.objects.count() == 11


def test_guest_replies_are_limited_per_conversation_and_the_limit_is_configurable(settings):
    settings.SHOP_RATE_LIMITS = {"support_reply": {"email": "2/h"}}
    thread = support.thread_open(subject="Lamp", body="Broken", email="guest@example.com")
    other = support.thread_open(subject="Mug", body="Chipped", email="other@example.com")
    url, other_url = (thread_link(t).removeprefix(settings.SITE_URL) for t in (thread, other))
    for n in range(2):
        assert visitor(f"198.51.{n}.1").post(url, {"message": f"More {n}"}).status_code == 302
    assert_our_limited_page(visitor("198.51.5.1").post(url, {"message": "And more"}))
    assert visitor("198.51.5.1").post(other_url, {"message": "Mine"}).status_code == 302
    assert SupportMessage.objects.filter(thread=thread).count() == 3
    assert visitor("198.51.5.1").get(url).status_code == 200  # reading is never limited


@pytest.mark.promise("P26")
def test_a_member_replying_in_a_conversation_is_limited_by_their_own_address(settings, user):
    settings.SHOP_RATE_LIMITS = {"support_reply": {"email": "3/h"}}
    thread = support.thread_open(subject="Lamp", body="Broken", user=user)
    url = reverse("orders:thread", args=[thread.pk])
    for n in range(3):
        assert member(f"198.51.{n}.1", user).post(url, {"message": f"More {n}"}).status_code == 302
    assert_our_limited_page(member("198.51.7.1", user).post(url, {"message": "And more"}))
    assert SupportMessage.objects.filter(thread=thread).count() == 4
    assert member("198.51.7.1", user).get(url).status_code == 200  # reading is never limited


def _checkout(client, product, email="victim@example.com", **extra):
    from tests.conftest import Shopper

    shopper = Shopper(client)
    shopper.add(product, 1)
    return shopper.checkout(email=email, **extra)


@pytest.mark.promise("P26")
def test_guest_checkouts_stop_mailing_one_address_after_ten_an_hour(product, django_capture_on_commit_callbacks):
    from orders.models import Order

    product.stock = 100
    product.save()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            assert _checkout(visitor(f"198.51.{n}.1"), product).status_code == 302
        blocked = _checkout(visitor("198.51.99.1"), product)
        assert_our_limited_page(blocked)
        assert _checkout(visitor("198.51.99.1"), product, email="someone@example.com").status_code == 302
    from privacy.protection.crypto import email_index

    assert Order.objects.filter(email_index=email_index("victim@example.com")).count() == 10
    assert Order.objects.count() == 11  # the refused one wrote no order and took no stock
    product.refresh_from_db()
    assert product.stock == 89


@pytest.mark.promise("P26")
def test_one_network_placing_orders_is_stopped_after_thirty_an_hour_and_a_bad_form_is_not_counted(product):
    from orders.models import Order

    product.stock = 100
    product.save()
    client = visitor("203.0.113.5")
    for _ in range(40):  # incomplete forms place nothing and send nothing: never counted
        assert _checkout(client, product, name="").status_code == 400
    for n in range(30):
        assert _checkout(client, product, email=f"g{n}@example.com").status_code == 302
    assert_our_limited_page(_checkout(client, product, email="g30@example.com"))
    assert _checkout(visitor("192.0.2.1"), product, email="g30@example.com").status_code == 302
    assert Order.objects.count() == 31


@pytest.mark.promise("P8")
def test_ticking_the_newsletter_box_twice_within_the_hour_sends_one_confirmation(product, frozen,
                                                                                 django_capture_on_commit_callbacks):
    product.stock = 10
    product.save()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            assert _checkout(visitor(f"198.51.{n}.1"), product, marketing="on").status_code == 302
    confirmations = [m for m in mail.outbox if m.subject.startswith("Please confirm")]
    assert len(confirmations) == 1 and confirmations[0].to == ["victim@example.com"]
    frozen.shift(timedelta(hours=1, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert _checkout(visitor("198.51.9.1"), product, marketing="on").status_code == 302
    assert len([m for m in mail.outbox if m.subject.startswith("Please confirm")]) == 2  # a reminder, an hour on


def test_a_typo_in_the_configured_limits_is_refused_clearly(settings):
    from django.core.exceptions import ImproperlyConfigured

    from privacy.protection.throttle import limits

    for bad in ({"support_reply": {"email": "2 per hour"}}, {"nonsense": {"ip": "1/h"}},
                {"support": {"phone": "1/h"}}):
        settings.SHOP_RATE_LIMITS = bad
        with pytest.raises(ImproperlyConfigured):
            limits()


# --- "Download my data" -----------------------------------------------------------------

def test_repeated_download_clicks_open_one_access_request_and_one_export(user, settings):
    settings.SHOP_RATE_LIMITS = {"export": {"user": "50/h", "ip": "50/h"}}
    client = member("203.0.113.5", user)
    for _ in range(20):
        assert client.post(reverse("privacy:export_start")).status_code == 302
    request = PrivacyRequest.objects.get(kind="access")
    assert (request.user, request.status, request.verified_by) == (user, "in_progress", "session")
    assert ExportJob.objects.get().request == request


def test_the_download_answers_an_open_access_request_from_the_contact_form(user, django_capture_on_commit_callbacks):
    client = member("203.0.113.5", user)
    client.post(reverse("privacy:contact"), {"kind": "access", "message": "A copy of my data, please"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:export_start"))
    request = PrivacyRequest.objects.get(kind="access")
    assert request.status == "completed" and request.verified_by == "session"
    assert ExportJob.objects.get().status == "ready"
    with django_capture_on_commit_callbacks(execute=True):  # answered: the next click is a new request
        client.post(reverse("privacy:export_start"))
    assert PrivacyRequest.objects.filter(kind="access").count() == 2 and ExportJob.objects.count() == 2


def test_a_member_builds_five_exports_an_hour(user, django_capture_on_commit_callbacks):
    client = member("203.0.113.5", user)
    for _ in range(5):  # each built before the next click: each click a new archive
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("privacy:export_start")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert_our_limited_page(client.post(reverse("privacy:export_start")))
    assert ExportJob.objects.filter(status="ready").count() == 5 == ExportJob.objects.count()
    assert not PrivacyRequest.objects.filter(kind="access", status__in=PrivacyRequest.OPEN).exists()
    with django_capture_on_commit_callbacks(execute=True):  # another member on the same network
        assert member("203.0.113.5").post(reverse("privacy:export_start")).status_code == 302
    assert ExportJob.objects.count() == 6


# --- account deletion: a password and TOTP check -------------------------------------------

def test_deleting_the_account_allows_five_tries_then_not_even_the_right_password(user):
    client = member("203.0.113.5", user)
    url = reverse("privacy:delete_account")
    for n in range(5):
        assert client.post(url, {"password": f"guess {n}"}).status_code == 400
    assert_our_limited_page(client.post(url, {"password": PASSWORD}))
    assert not PrivacyRequest.objects.filter(kind="erasure").exists()
    assert client.get(url).status_code == 200  # the page itself still opens
    other = UserFactory()
    assert member("203.0.113.5", other).post(url, {"password": PASSWORD}).status_code == 302  # their own limit
    assert PrivacyRequest.objects.get(kind="erasure").user == other


def test_authenticator_codes_for_deletion_are_limited_too(user):
    enable_mfa(user)
    client = member("203.0.113.5", user)
    url = reverse("privacy:delete_account")
    for n in range(5):
        assert client.post(url, {"password": PASSWORD, "code": f"{n:06d}"}).status_code == 400
    code = format_hotp_value(hotp_value(TOTP_SECRET, next(iter(yield_hotp_counters_from_time()))))
    assert_our_limited_page(client.post(url, {"password": PASSWORD, "code": code}))
    assert not PrivacyRequest.objects.filter(kind="erasure").exists()


# --- marketing double opt-in --------------------------------------------------------------

def test_resubscribing_mails_a_confirmation_five_times_an_hour_and_withdrawing_always_works(
        user, django_capture_on_commit_callbacks):
    client = member("203.0.113.5", user)
    url = reverse("privacy:consent_update")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert client.post(url, {"marketing_email": "on"}).status_code == 302
            assert client.post(url, {}).status_code == 302  # withdraw
        assert_our_limited_page(client.post(url, {"marketing_email": "on"}))
        assert client.post(url, {"personalisation": "on"}).status_code == 302  # not a subscription: not counted
    assert len([m for m in mail.outbox if m.subject.startswith("Please confirm")]) == 5
    assert MarketingSubscriber.objects.get(user=user).unsubscribed_at is not None


# --- allauth's forms ----------------------------------------------------------------------

def signup_data(email: str) -> dict:
    return {"email": email, "password1": "Walnut-lamp-2026!", "password2": "Walnut-lamp-2026!", "adult": "on"}


def test_sign_ups_from_one_network_stop_after_twenty_an_hour_others_go_on():
    for n in range(20):
        assert visitor("203.0.113.5").post(reverse("account_signup"), signup_data(f"n{n}@example.com")).status_code == 302
    sent = len(mail.outbox)
    assert_limited(visitor("203.0.113.5").post(reverse("account_signup"), signup_data("n20@example.com")))
    assert len(mail.outbox) == sent and not User.objects.filter(email="n20@example.com").exists()
    assert visitor("192.0.2.1").post(reverse("account_signup"), signup_data("n20@example.com")).status_code == 302
    assert User.objects.filter(email="n20@example.com").exists()


def test_failed_sign_ins_from_one_network_do_not_lock_out_everybody_else(user, password):
    victims = [UserFactory() for _ in range(20)]
    for v in victims:
        visitor("203.0.113.5").post(reverse("account_login"), {"login": v.email, "password": "wrong guess"})
    refused = visitor("203.0.113.5").post(reverse("account_login"), {"login": user.email, "password": password})
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session
    somebody = visitor("192.0.2.1")
    assert somebody.post(reverse("account_login"), {"login": user.email, "password": password}).status_code == 302
    assert int(somebody.session["_auth_user_id"]) == user.pk


def test_the_lockout_of_one_address_does_not_block_another(user, password):
    locked = UserFactory()
    client = visitor("203.0.113.5")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": locked.email, "password": "wrong guess"})
    refused = client.post(reverse("account_login"), {"login": locked.email, "password": password})
    assert "Too many failed login attempts" in refused.content.decode() and "_auth_user_id" not in client.session
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert int(client.session["_auth_user_id"]) == user.pk


def test_second_factor_codes_at_sign_in_are_limited_per_account(user, password):
    enable_mfa(user)
    client = visitor("203.0.113.5")
    assert client.post(reverse("account_login"), {"login": user.email, "password": password})["Location"] == \
        reverse("mfa_authenticate")
    for n in range(5):
        client.post(reverse("mfa_authenticate"), {"code": f"{n:06d}"})
    code = format_hotp_value(hotp_value(TOTP_SECRET, next(iter(yield_hotp_counters_from_time()))))
    refused = client.post(reverse("mfa_authenticate"), {"code": code})
    assert "_auth_user_id" not in client.session and refused.status_code == 200


def test_password_reset_mails_an_address_three_times_an_hour(user):
    for n in range(3):
        assert visitor(f"198.51.{n}.1").post(reverse("account_reset_password"), {"email": user.email}).status_code == 302
    assert_limited(visitor("198.51.7.1").post(reverse("account_reset_password"), {"email": user.email}))
    assert len(mail.outbox) == 3
    other = UserFactory()
    assert visitor("198.51.7.1").post(reverse("account_reset_password"), {"email": other.email}).status_code == 302
    assert mail.outbox[-1].to == [other.email]


def test_changing_the_password_allows_five_tries_in_fifteen_minutes(user, password):
    client = member("203.0.113.5", user)
    new = "Brand-new-walnut-lamp-9"
    for n in range(5):
        client.post(reverse("account_change_password"), {"oldpassword": f"guess {n}", "password1": new,
                                                         "password2": new})
    response = client.post(reverse("account_change_password"), {"oldpassword": password, "password1": new,
                                                                 "password2": new})
    assert_limited(response)
    user.refresh_from_db()
    assert user.check_password(password) and not user.check_password(new)


# --- sign-up does the same work whether or not the address has an account --------------------

def test_signing_up_with_a_taken_address_hashes_a_password_like_a_new_account(monkeypatch):
    calls = []
    encode = TestArgon2PasswordHasher.encode
    monkeypatch.setattr(TestArgon2PasswordHasher, "encode", lambda self, *a, **kw: calls.append(1) or encode(self, *a, **kw))
    taken = UserFactory(email="taken@example.com")
    assert EmailAddress.objects.get(user=taken).verified
    calls.clear()
    new = Client().post(reverse("account_signup"), signup_data("fresh@example.com"))
    new_account = len(calls)
    calls.clear()
    existing = Client().post(reverse("account_signup"), signup_data("taken@example.com"))
    existing_account = len(calls)
    calls.clear()
    again = Client().post(reverse("account_signup"), signup_data("taken@example.com"))  # no mail: cooldown
    assert new_account == existing_account == len(calls) == 1
    assert new["Location"] == existing["Location"] == again["Location"]  # the same answer
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert [m.to for m in mail.outbox] == [["fresh@example.com"], ["taken@example.com"]]


# --- request size ---------------------------------------------------------------------------

class Untouchable(io.RawIOBase):
    """A request body that fails the test if anybody reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")


class Counting(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_150_mb_upload_is_refused_from_its_content_length_before_it_is_read():
    response = visitor("203.0.113.5").generic(
        "POST", reverse("orders:support"), b"", content_type="multipart/form-data; boundary=x",
        **{"CONTENT_LENGTH": str(150 * 1024 * 1024), "wsgi.input": Untouchable()})
    assert response.status_code == 413
    page = response.content.decode()
    assert "That was too large to send" in page and "16 MB" in page and 'class="site-header"' in page
    assert not SupportThread.objects.exists()


def test_an_upload_over_the_cap_stores_nothing_and_one_under_it_goes_through(settings):
    settings.SHOP_MAX_REQUEST_BYTES = 64 * 1024
    url = reverse("orders:support")
    big = SimpleUploadedFile("big.png", PNG + b"\0" * 100_000)
    response = visitor("203.0.113.5").post(url, {"email": "g@example.com", "subject": "Hi", "message": "x",
                                                 "files": [big]})
    assert response.status_code == 413 and not SupportThread.objects.exists()
    assert not (settings.PRIVATE_ROOT / "attachments").exists() or not any((settings.PRIVATE_ROOT / "attachments").iterdir())
    small = SimpleUploadedFile("small.png", PNG)
    assert visitor("203.0.113.5").post(url, {"email": "g@example.com", "subject": "Hi", "message": "x",
                                             "files": [small]}).status_code == 200
    assert Attachment.objects.count() == 1


def chunked(stream) -> dict:
    """A form body sent without Content-Length, as gunicorn hands a chunked request over."""
    return {"CONTENT_LENGTH": "", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream}


def test_a_chunked_body_is_read_up_to_the_cap_and_no_further(settings, django_capture_on_commit_callbacks):
    settings.SHOP_MAX_REQUEST_BYTES = 64 * 1024
    stream = Counting(b"kind=question&email=g%40example.com&message=" + b"x" * 200_000)
    response = visitor("203.0.113.5").generic("POST", reverse("privacy:contact"), **chunked(stream))
    assert response.status_code == 413 and stream.taken == 64 * 1024 + 1
    assert not PrivacyRequest.objects.exists()
    small = b"kind=question&email=g%40example.com&message=Hello+there"
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor("203.0.113.5").generic("POST", reverse("privacy:contact"), **chunked(io.BytesIO(small)))
    assert response.status_code == 200
    assert PrivacyRequest.objects.get().message == "Hello there"


def test_oversized_form_fields_are_refused_without_an_error_page(settings):
    response = visitor("203.0.113.5").post(reverse("privacy:contact"), {
        "kind": "question", "email": "g@example.com", "message": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 400 and not PrivacyRequest.objects.exists()
