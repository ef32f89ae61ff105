"""What a browser session remembers for a guest (their orders, conversation links, data export) is
forgotten when anyone signs in or out on that browser: on a shared computer the next person must
not see the guest's name and address."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.links import thread_link
from orders.models import Attachment, SupportThread
from orders.support import thread_open
from privacy.models import PrivacyRequest
from privacy.rights import subject_requests as rights
from tests.factories import PASSWORD, UserFactory
from tests.uploads import png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.promise("P11")]

GUEST = "Grace Hopper"


def sign_in(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == user.pk
    return response


def test_a_guest_order_shown_in_this_browser_is_forgotten_when_someone_signs_in(shopper, product):
    reference = shopper.buy(product, name=GUEST)
    client = shopper.client
    thanks = client.get(reverse("orders:thanks", args=[reference]))
    assert thanks.status_code == 200 and GUEST in thanks.content.decode()  # the guest sees their order
    next_person = UserFactory(name="Linus Next")
    sign_in(client, next_person)
    for name in ("orders:thanks", "orders:pay", "orders:return"):
        response = client.get(reverse(name, args=[reference]))
        assert response.status_code == 404, name
        assert GUEST not in response.content.decode()
    assert "guest_orders" not in client.session
    assert reference not in client.get(reverse("orders:mine")).content.decode()
    client.post(reverse("account_logout"))
    assert client.get(reverse("orders:thanks", args=[reference])).status_code == 404  # not back after sign-out


def test_a_guest_conversation_and_data_export_are_forgotten_at_sign_in(client, db):
    client.post(reverse("orders:support"), {
        "email": "guest@example.com", "subject": "Scratched lamp", "message": "It arrived scratched.",
        "files": [SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")]})
    thread, attachment = SupportThread.objects.get(), Attachment.objects.get()
    client.get(thread_link(thread).split("8000", 1)[1])  # the emailed link, opened in this browser
    assert client.get(reverse("orders:attachment", args=[attachment.pk])).status_code == 200
    req = rights.request_open(kind=PrivacyRequest.Kind.ACCESS, email="guest@example.com", notify=False)
    download = client.post(reverse("privacy:guest_export_confirm", args=[req.confirm_token]))
    assert download.status_code == 302 and client.get(download["Location"]).status_code == 200
    sign_in(client, UserFactory())
    assert client.get(reverse("orders:attachment", args=[attachment.pk])).status_code == 404
    assert client.get(download["Location"]).status_code == 404
    assert not {"support_threads", "guest_exports"} & set(client.session.keys())


def test_guest_links_opened_while_signed_in_are_forgotten_at_sign_out(client, db):
    user = UserFactory()
    sign_in(client, user)
    client.post(reverse("orders:support"), {"subject": "Hi", "message": "x"})  # their own conversation
    guest_thread = thread_open(subject="Partner's lamp", body="Photo attached", email="partner@example.com",
                               files=[SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")])
    attachment = Attachment.objects.get(message__thread=guest_thread)
    client.get(thread_link(guest_thread).split("8000", 1)[1])  # a partner's emailed link, opened here
    assert client.get(reverse("orders:attachment", args=[attachment.pk])).status_code == 200
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("orders:attachment", args=[attachment.pk])).status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()  # forgotten by the browser, not deleted
