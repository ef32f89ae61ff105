"""Every email is one family: the shop's name, the person's name or nothing, never "User #"
or a host:port in the words, an HTML and a text part, and every link in it answers."""
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import strip_tags

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
URL = re.compile(r"https?://[^\s<>\"']+")
HOST_PORT = re.compile(r"\b(?:[a-z][\w-]*|\d{1,3}(?:\.\d{1,3}){3})(?:\.[\w-]+)*:\d{2,5}\b", re.I)


def parts(message) -> tuple[str, str]:
    html = dict((mime, body) for body, mime in message.alternatives)["text/html"]
    return message.body, html


def assert_reads_well(message, *, name: str = "") -> None:
    text, html = parts(message)
    for body in (text, strip_tags(html), message.subject):
        assert "User #" not in body
        assert not HOST_PORT.search(URL.sub("", body)), body  # no host:port outside a link
        assert "Hello from" not in body and "example.com!" not in body
    assert "Privacy-first Shop" in text and "Privacy-first Shop" in html
    assert "<html" in html and "You got this email from" in html
    greeting = text.strip().splitlines()[0]
    assert greeting == (f"Hello {name}," if name else "Hello,")


def assert_links_answer(client, message) -> list[str]:
    text, html = parts(message)
    links = set(URL.findall(text)) | set(re.findall(r'href="([^"]+)"', html))
    assert links, "the email has something to do: a link"
    for link in links:
        split = urlsplit(link)
        path = split.path + (f"?{split.query}" if split.query else "")
        assert client.get(path).status_code in (200, 302), link
    return sorted(links)


def test_the_signup_confirmation_and_marketing_emails_read_well_and_their_links_answer(
        client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {"email": "new.reader@example.com", "password1": PASSWORD,
                                                "password2": PASSWORD, "adult": "on", "marketing": "on"})
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["Please confirm: emails from Privacy-first Shop",
                        "[Privacy-first Shop] Please confirm your email address"], subjects
    for message in mail.outbox:
        assert_reads_well(message)  # no name given at sign-up: "Hello," and nothing else
        assert_links_answer(client, message)
    confirm = next(m for m in mail.outbox if "/accounts/confirm-email/" in m.body)
    assert "create an account at Privacy-first Shop" in confirm.body


def test_the_password_reset_email_greets_the_person_by_name(client):
    UserFactory(email="ada@example.com", name="Ada Lovelace")
    client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    assert_reads_well(mail.outbox[0], name="Ada Lovelace")
    assert "reset the password" in mail.outbox[0].body
    assert_links_answer(client, mail.outbox[0])


@pytest.mark.promise("P17")
def test_asking_to_delete_the_account_sends_the_date_and_a_link_to_cancel(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="grace@example.com", name="Grace Hopper")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:delete_account"), {"password": PASSWORD})
    from privacy.models import PrivacyRequest
    case = PrivacyRequest.objects.get(kind="erasure", user=user)
    sent = [m for m in mail.outbox if "will be deleted" in m.subject]
    assert len(sent) == 1 and sent[0].to == ["grace@example.com"]
    day = f"{case.scheduled_for:%-d %B %Y}"
    assert day in sent[0].subject and day in sent[0].body
    assert_reads_well(sent[0], name="Grace Hopper")
    links = assert_links_answer(client, sent[0])
    assert any(urlsplit(link).path == reverse("privacy:dashboard") for link in links)
    assert "Cancel the deletion" in client.get(reverse("privacy:dashboard")).content.decode()
    # Asking twice does not send a second email.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("privacy:delete_account"), {"password": PASSWORD})
    assert len([m for m in mail.outbox if "will be deleted" in m.subject]) == 1


def test_the_password_changed_notice_says_what_changed_and_when(client):
    user = UserFactory(email="alan@example.com", name="Alan Turing")
    client.force_login(user)
    client.post(reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": "Quiet-harbour-2027!",
                                                     "password2": "Quiet-harbour-2027!"})
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    notice = mail.outbox[0]
    assert_reads_well(notice, name="Alan Turing")
    assert "password has been changed" in notice.body
    assert re.search(r"When: \d{1,2} \w+ \d{4}, \d\d:\d\d", notice.body), notice.body
    assert "IP address" not in notice.body  # we do not repeat where it came from in an email


def test_an_order_email_is_on_the_same_layout_and_its_link_opens_the_order(client):
    from orders.models import Notification
    from orders.notifications.emails import notification_send
    from tests.factories import OrderFactory
    user = UserFactory(email="edsger@example.com", name="Edsger Dijkstra")
    order = OrderFactory(user=user, email=user.email)
    note = Notification.objects.create(order=order, kind=Notification.Kind.ORDER_CONFIRMED)
    assert notification_send(notification_id=note.pk)
    message = mail.outbox[-1]
    text, html = parts(message)
    assert order.reference in text and "<html" in html and "You got this email from" in html
    for body in (text, strip_tags(html)):
        assert "User #" not in body and not HOST_PORT.search(URL.sub("", body))
    assert text.rstrip().endswith("— Privacy-first Shop")
    client.force_login(user)
    assert_links_answer(client, message)
