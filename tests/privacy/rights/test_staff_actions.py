"""What a privacy officer notices when answering or carrying out a request from the admin queue:
the request ends closed, the access log says who did it, and a lookup that could name the wrong
person refuses and changes nothing."""
import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from orders.models import Order
from privacy.models import AccessLogEntry, Disclosure, PrivacyRequest
from privacy.rights.erasure import erasure_schedule
from privacy.rights.staff_actions import PersonNotFound, request_erase_now
from privacy.rights.subject_requests import RequestError, request_open
from shop.models import User
from tests.factories import OrderFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

ERASE_NOW = "Erase now"


@pytest.fixture
def officer(client):
    person = staff_user("Privacy officer")
    client.force_login(person)
    return person


def change_page(client, case) -> str:
    return client.get(reverse("admin:privacy_privacyrequest_change", args=[case.pk])).content.decode()


def guardian_request(client) -> PrivacyRequest:
    client.post(reverse("admin:privacy_privacyrequest_add"), {"kind": "guardian", "verified_by": "guardian_documents"})
    return PrivacyRequest.objects.get(kind="guardian")


@pytest.mark.promise("P20")
@pytest.mark.promise("P17")
def test_a_forced_erasure_on_a_guardians_request_closes_it_and_the_minors_own_scheduled_one(
        client, officer, django_capture_on_commit_callbacks):
    minor = UserFactory(email="kid@example.com")
    OrderFactory(user=minor, status=Order.Status.PAID)  # open: a guardian's request goes ahead anyway
    own = erasure_schedule(user=minor)
    case = guardian_request(client)
    assert ERASE_NOW in change_page(client, case) and ERASE_NOW in change_page(client, own)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:privacy_request_erase", args=[case.pk]),
                               {"email": "Kid@Example.com", "confirm": "on"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=minor.pk).exists()
    for request_row in (case, own):
        request_row.refresh_from_db()
        assert request_row.status == PrivacyRequest.Status.COMPLETED and request_row.closed_at is not None
        page = change_page(client, request_row)
        assert ERASE_NOW not in page and "Answer and close" not in page
    assert case.reply == "The data was erased as you asked."


@pytest.mark.promise("P17")
def test_erase_now_on_a_members_own_request_answers_them_without_linking_the_answer_to_them(
        client, officer, django_capture_on_commit_callbacks):
    member = UserFactory(email="leaving@example.com")
    own = erasure_schedule(user=member)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_erase", args=[own.pk]), {"email": member.email, "confirm": "on"})

    own.refresh_from_db()
    assert own.status == PrivacyRequest.Status.COMPLETED
    assert not User.objects.filter(pk=member.pk).exists()
    assert mail.outbox[-1].to == ["leaving@example.com"] and "erased as you asked" in mail.outbox[-1].body
    answer = Disclosure.objects.get(reference=f"request {own.pk}")
    assert answer.subject_user_id is None and answer.guest_index == ""  # nothing ties the answer back to them
    assert not Disclosure.objects.filter(subject_user_id=member.pk).exists()


@pytest.mark.promise("P17")
def test_erase_now_waits_for_an_open_order_and_changes_nothing(client, officer):
    member = UserFactory(email="busy@example.com")
    OrderFactory(user=member, status=Order.Status.PAID)
    own = erasure_schedule(user=member)

    response = client.post(reverse("admin:privacy_request_erase", args=[own.pk]),
                           {"email": member.email, "confirm": "on"}, follow=True)

    assert "Not erased yet" in response.content.decode()
    own.refresh_from_db()
    assert own.status == PrivacyRequest.Status.SCHEDULED and own.user_id == member.pk
    assert User.objects.filter(pk=member.pk).exists()
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.ERASE).exists()


@pytest.mark.promise("P11")
@pytest.mark.promise("P18")
def test_an_answered_request_has_its_access_log_entry_and_is_not_answered_twice(
        client, officer, django_capture_on_commit_callbacks):
    member = UserFactory(email="asker@example.com")
    case = request_open(kind="question", user=member, message="What do you keep?", notify=False)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:privacy_request_reply", args=[case.pk]), {"reply": "Orders, for ten years."})

    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.CHANGE, model_label="privacy.PrivacyRequest")
    assert entry.actor_id == officer.pk and entry.object_ids == [str(case.pk)]
    assert [str(i) for i in entry.subject_user_ids] == [str(member.pk)]
    assert "reply" in entry.fields and "Orders, for ten years." not in repr(entry.__dict__)  # who, never what
    case.refresh_from_db()
    closed_at, sent = case.closed_at, len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:privacy_request_reply", args=[case.pk]), {"reply": "Changed my mind."},
                               follow=True)

    assert "already closed" in response.content.decode()
    case.refresh_from_db()
    assert (case.reply, case.closed_at, len(mail.outbox)) == ("Orders, for ten years.", closed_at, sent)
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE,
                                         model_label="privacy.PrivacyRequest").count() == 1


@pytest.fixture
def two_claimants():
    """One account's email is another account's verified address: the address names two people."""
    first = UserFactory(email="shared@example.com", verified=False)  # its address row unverified, so the other can hold it
    second = UserFactory(email="other@example.com")
    EmailAddress.objects.create(user=second, email="shared@example.com", verified=True)
    return first, second


@pytest.mark.promise("P17")
@pytest.mark.promise("P20")
def test_an_ambiguous_email_refuses_even_a_guardians_request_and_changes_nothing(client, officer, two_claimants):
    case = guardian_request(client)
    entries = AccessLogEntry.objects.count()

    with pytest.raises(PersonNotFound, match="2 accounts answer to this address"):
        request_erase_now(case=case, email="SHARED@example.com", by=officer)
    response = client.post(reverse("admin:privacy_request_erase", args=[case.pk]),
                           {"email": "shared@example.com", "confirm": "on"})

    assert response.status_code == 200 and "2 accounts answer to this address" in response.content.decode()
    assert User.objects.filter(pk__in=[person.pk for person in two_claimants]).count() == 2
    case.refresh_from_db()
    assert case.status == PrivacyRequest.Status.RECEIVED and case.closed_at is None
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.ERASE).exists()
    assert AccessLogEntry.objects.count() == entries  # nothing was done, so nothing was logged


@pytest.mark.promise("P17")
def test_a_closed_or_non_erasure_request_erases_nobody(officer):
    member = UserFactory(email="kept@example.com")
    question = request_open(kind="question", user=member, notify=False)
    with pytest.raises(RequestError):
        request_erase_now(case=question, email=member.email, by=officer)
    closed = erasure_schedule(user=member)
    PrivacyRequest.objects.filter(pk=closed.pk).update(status=PrivacyRequest.Status.CANCELLED)
    closed.refresh_from_db()
    with pytest.raises(RequestError, match="already closed"):
        request_erase_now(case=closed, email=member.email, by=officer)
    assert User.objects.filter(pk=member.pk).exists()
