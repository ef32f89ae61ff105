"""Partial erasure (P17): from the privacy page, one kind of data goes at once, after a
confirmation page (POST + CSRF), without closing the account; each is an erasure request answered
at once and in the access log. What stays (other kinds, other people's data, what an open order
still needs) stays."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Attachment, Order, SupportThread
from orders.support import thread_open
from privacy.models import AccessLogEntry, ConsentRecord, MarketingSubscriber, PrivacyRequest
from shop.models import Address, BrowsingEvent, User
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.private_files import attachment_exists
from tests.uploads import png_bytes

pytestmark = pytest.mark.django_db


def url(kind: str) -> str:
    return reverse("privacy:partial_erasure", args=[kind])


@pytest.fixture
def neighbour(db):
    """Someone else with data of every kind: none of it may move."""
    user = UserFactory(email="neighbour@example.com", name="Nora Neighbour")
    Address.objects.create(user=user, name="Nora Neighbour", line1="1 Other Street", city="Elsewhere",
                           postal_code="E1 1AA", country="GB")
    BrowsingEvent.objects.create(user=user, product=ProductFactory())
    MarketingSubscriber.objects.create(user=user, email=user.email, email_index="n" * 64, token="n" * 32)
    order = OrderFactory(user=user, status=Order.Status.COMPLETED)
    thread_open(subject="My parcel", body="Where is it?", user=user, order=order,
                files=[SimpleUploadedFile("nora.png", png_bytes(), content_type="image/png")])
    return user


def snapshot(user) -> dict:
    return {
        "addresses": Address.objects.filter(user=user).count(),
        "browsing": BrowsingEvent.objects.filter(user=user).count(),
        "conversations": SupportThread.objects.filter(user=user).count(),
        "marketing": MarketingSubscriber.objects.filter(user=user).count(),
        "orders": Order.objects.filter(user=user).count(),
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/")  # a recorded session, as a browser has
    return client


def assert_recorded(user, kind: str, labels: list[str]) -> PrivacyRequest:
    case = PrivacyRequest.objects.get(user=user, kind=PrivacyRequest.Kind.PARTIAL_ERASURE, scope=kind)
    assert case.status == "completed" and case.closed_at is not None and case.verified_by == "session"
    assert case.reply  # what was done, in words
    for label in labels:
        entry = AccessLogEntry.objects.get(model_label=label, action="erase")
        assert entry.actor_id == user.pk and f"partial erasure: {kind}" in entry.reason
        assert list(entry.subjects.values_list("user_id", flat=True)) == [user.pk]
    return case


@pytest.mark.promise("P17")
@pytest.mark.parametrize("kind, label, gone", [
    ("browsing", "shop.BrowsingEvent", "browsing"),
    ("addresses", "shop.Address", "addresses"),
    ("marketing", "privacy.MarketingSubscriber", "marketing"),
])
def test_one_kind_goes_after_its_confirmation_page_and_nothing_else(rich_user, neighbour, kind, label, gone):
    client = signed_in(rich_user)
    before, theirs = snapshot(rich_user), snapshot(neighbour)
    assert before[gone] >= 1
    page = client.get(url(kind))
    assert page.status_code == 200 and "It cannot be undone" in page.content.decode()
    assert snapshot(rich_user) == before  # the confirmation page changes nothing
    response = client.post(url(kind), {"user": neighbour.pk})  # naming someone else changes nothing
    assert response.status_code == 302 and response["Location"].endswith("#partial-erasure")
    after = snapshot(rich_user)
    assert after[gone] == 0
    assert {k: v for k, v in after.items() if k != gone} == {k: v for k, v in before.items() if k != gone}
    assert snapshot(neighbour) == theirs
    assert User.objects.filter(pk=rich_user.pk).exists()
    assert client.get(reverse("privacy:dashboard")).status_code == 200  # still signed in, account open
    assert_recorded(rich_user, kind, [label])


@pytest.mark.promise("P17")
def test_dropping_the_marketing_subscription_keeps_the_proof_of_withdrawal(rich_user):
    MarketingSubscriber.objects.filter(user=rich_user).update(confirmed_at=timezone.now() - timedelta(days=30))
    signed_in(rich_user).post(url("marketing"))
    last = ConsentRecord.objects.filter(user=rich_user, purpose="marketing_email").order_by("-at", "-pk").first()
    assert last is not None and last.granted is False and last.channel == "dashboard"


@pytest.mark.promise("P17")
def test_conversations_go_with_their_files_except_those_an_open_order_still_needs(rich_user, neighbour):
    done_thread = SupportThread.objects.get(user=rich_user)
    done_files = list(Attachment.objects.filter(message__thread=done_thread).values_list("file_name", flat=True))
    assert done_files and all(attachment_exists(name) for name in done_files)
    open_order = OrderFactory(user=rich_user, status=Order.Status.SHIPPED)
    needed = thread_open(subject="Still on its way", body="When does it arrive?", user=rich_user, order=open_order,
                         files=[SimpleUploadedFile("label.png", png_bytes(), content_type="image/png")])
    needed_files = list(Attachment.objects.filter(message__thread=needed).values_list("file_name", flat=True))
    theirs = list(Attachment.objects.filter(message__thread__user=neighbour).values_list("file_name", flat=True))
    client = signed_in(rich_user)
    page = client.get(url("conversations")).content.decode()
    assert "1 conversation(s) about an order still on its way" in page and "deletes <strong>" in page
    client.post(url("conversations"))
    assert list(SupportThread.objects.filter(user=rich_user)) == [needed]
    assert not any(attachment_exists(name) for name in done_files)
    assert all(attachment_exists(name) for name in needed_files + theirs)
    assert SupportThread.objects.filter(user=neighbour).count() == 1
    case = assert_recorded(rich_user, "conversations", ["orders.SupportThread", "orders.SupportMessage",
                                                         "orders.Attachment"])
    assert "still on its way" in case.reply
    assert Order.objects.filter(user=rich_user).count() == 4  # orders themselves stay


@pytest.mark.promise("P17")
def test_other_sessions_are_signed_out_and_this_one_stays(rich_user, neighbour):
    from allauth.usersessions.models import UserSession

    here, laptop, phone = signed_in(rich_user), signed_in(rich_user), signed_in(rich_user)
    theirs = signed_in(neighbour)
    assert UserSession.objects.filter(user=rich_user).count() == 3
    here.post(url("sessions"))
    assert UserSession.objects.filter(user=rich_user).count() == 1
    assert here.get(reverse("privacy:dashboard")).status_code == 200
    for other in (laptop, phone):
        assert other.get(reverse("privacy:dashboard")).status_code == 302  # signed out
    assert theirs.get(reverse("privacy:dashboard")).status_code == 200
    assert UserSession.objects.filter(user=neighbour).count() == 1
    assert_recorded(rich_user, "sessions", ["usersessions.UserSession"])


@pytest.mark.promise("P17")
def test_nothing_to_delete_is_still_asked_and_answered(neighbour):
    user = UserFactory()
    signed_in(user).post(url("addresses"))
    case = PrivacyRequest.objects.get(user=user, scope="addresses")
    assert "nothing to delete" in case.reply
    assert Address.objects.filter(user=neighbour).count() == 1


@pytest.mark.promise("P17")
def test_a_post_without_the_csrf_token_deletes_nothing(rich_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rich_user)
    assert client.post(url("addresses")).status_code == 403
    assert Address.objects.filter(user=rich_user).count() == 1
    assert not PrivacyRequest.objects.filter(kind="partial_erasure").exists()
    page = client.get(url("addresses"))
    token = page.cookies["csrftoken"].value
    assert client.post(url("addresses"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert Address.objects.filter(user=rich_user).count() == 0


@pytest.mark.promise("P17")
def test_strangers_and_unknown_kinds_change_nothing(rich_user):
    assert Client().post(url("addresses")).status_code == 302  # to sign in
    assert Address.objects.filter(user=rich_user).count() == 1
    client = signed_in(rich_user)
    assert client.get(url("orders")).status_code == 404 and client.post(url("everything")).status_code == 404
    assert not PrivacyRequest.objects.filter(kind="partial_erasure").exists()


@pytest.mark.promise("P17")
def test_a_request_page_opens_for_its_owner_only(rich_user, neighbour):
    signed_in(rich_user).post(url("browsing"))
    case = PrivacyRequest.objects.get(scope="browsing")
    mine = signed_in(rich_user).get(reverse("privacy:request_detail", args=[case.pk]))
    assert mine.status_code == 200 and "Browsing history: deleted 1 record(s)." in mine.content.decode()
    assert signed_in(neighbour).get(reverse("privacy:request_detail", args=[case.pk])).status_code == 404
    assert Client().get(reverse("privacy:request_detail", args=[case.pk])).status_code == 302


@pytest.mark.promise("P17")
def test_the_privacy_page_offers_each_kind(rich_user):
    page = signed_in(rich_user).get(reverse("privacy:dashboard")).content.decode()
    assert 'id="partial-erasure"' in page
    for kind in ("browsing", "addresses", "conversations", "marketing", "sessions"):
        assert url(kind) in page


@pytest.mark.promise("P17")
def test_partial_erasure_is_rate_limited_like_the_other_rights(rich_user, settings):
    settings.SHOP_RATE_LIMITS = {"partial_erasure": {"user": "2/h"}}
    client = signed_in(rich_user)
    for kind in ("browsing", "addresses"):
        assert client.post(url(kind)).status_code == 302
    assert client.post(url("marketing")).status_code == 429
    assert MarketingSubscriber.objects.filter(user=rich_user).count() == 1
    assert PrivacyRequest.objects.filter(kind="partial_erasure").count() == 2


@pytest.mark.promise("P17")
@pytest.mark.promise("P13")
def test_a_legal_hold_on_the_person_keeps_every_kind_and_says_until_when(rich_user, neighbour):
    from tests.legal_holds import hold_on

    client = signed_in(rich_user)
    assert "Delete saved addresses now" in client.get(url("addresses")).content.decode()  # before the hold
    hold = hold_on(user=rich_user, days=60)
    before = snapshot(rich_user)
    page = client.get(url("addresses")).content.decode()
    assert "A legal hold applies to all your records" in page and f"{hold.expires_at:%-d %B %Y}" in page
    assert "Delete saved addresses now" not in page  # nothing to confirm
    response = client.post(url("addresses"), follow=True)
    assert "A legal hold applies" in response.content.decode()
    assert snapshot(rich_user) == before
    case = PrivacyRequest.objects.get(user=rich_user, scope="addresses")
    assert case.status == "refused" and "legal hold" in case.refusal_reason
    assert HOLD_DETAILS not in case.refusal_reason
    assert not AccessLogEntry.objects.filter(action="erase").exists()


HOLD_DETAILS = "Claim 2041"
