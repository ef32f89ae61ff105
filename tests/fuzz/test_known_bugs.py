"""Application bugs the fuzz tests found, each with its minimal input; all fixed, these tests
keep them fixed. (The broad fuzz tests still keep these inputs out, see the helpers named in each
reason, so each bug has exactly one test.)"""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders import support
from orders.models import Order, SupportMessage, SupportThread
from privacy.models import PolicyVersion, PrivacyRequest
from shop.models import CartItem, User
from tests.factories import PASSWORD, ProductFactory, UserFactory
from tests.fuzz.hostile import gif_claiming, png

pytestmark = pytest.mark.django_db

# --- BUG 1: a `next` that is not a URL makes redirect() look it up as a view name: 500 --------

BUG1 = ("BUG 1: _back() in shop/views.py and privacy/views.py hands a local `next` without '/' or '.' "
        "(e.g. 'a') to django.shortcuts.redirect(), which tries it as a URL pattern name and raises "
        "NoReverseMatch: HTTP 500 (fuzz helper: hostile.safe_next)")


def test_bug1_cart_add_with_a_next_that_is_not_a_url(client):
    product = ProductFactory(stock=5)
    response = client.post(reverse("shop:cart_add"), {"product": product.pk, "quantity": 1, "next": "a"})
    assert response.status_code == 302


def test_bug1_cookie_choice_with_a_next_that_is_not_a_url(client):
    response = client.post(reverse("privacy:cookies"), {"action": "reject_all", "next": "a"})
    assert response.status_code == 302


def test_bug1_policy_acknowledgement_with_a_next_that_is_not_a_url(client, user):
    PolicyVersion.objects.create(version="9.9", body="x", published_at=timezone.now(), effective_at=timezone.now())
    client.force_login(user)
    response = client.post(reverse("privacy:acknowledge", args=["9.9"]), {"next": "a"})
    assert response.status_code == 302


# --- BUG 2: an attachment whose header claims a huge image: 500 ------------------------------

BUG2 = ("BUG 2: orders/support.py sniff() catches UnidentifiedImageError, OSError, ValueError and "
        "SyntaxError, but Pillow raises PIL.Image.DecompressionBombError (an Exception subclass) for an "
        "image claiming more than 2 × Image.MAX_IMAGE_PIXELS pixels: a 29-byte GIF of 65535 × 65535 "
        "(or a PNG of 20000 × 20000) makes the support form and a reply answer HTTP 500 "
        "(fuzz helper: hostile.claims_too_many_pixels)")

# 29 bytes: b"GIF89a\xff\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02D\x01\x00;"
BOMB = gif_claiming(65535, 65535)


@pytest.mark.parametrize("content", [BOMB, png(20000, 20000)], ids=["gif-29-bytes", "png-20000x20000"])
def test_bug2_support_form_with_a_decompression_bomb(client, content):
    response = client.post(reverse("orders:support"), {
        "email": "guest@example.com", "subject": "Photo", "message": "See attached.",
        "files": [SimpleUploadedFile("photo.gif", content, content_type="image/gif")]})
    assert response.status_code == 400
    assert not SupportThread.objects.exists()


def test_bug2_support_reply_with_a_decompression_bomb(client, user):
    thread = support.thread_open(subject="Lamp", body="It flickers.", user=user)
    client.force_login(user)
    response = client.post(reverse("orders:thread", args=[thread.pk]), {
        "message": "Photo attached.", "files": [SimpleUploadedFile("photo.gif", BOMB, content_type="image/gif")]})
    assert response.status_code == 400
    assert SupportMessage.objects.count() == 1


# --- BUG 3: an email Django accepts but cannot send to: 500 after the row is committed ----------

BUG3 = ("BUG 3: Django's EmailField accepts internationalised domains that Python's IDNA codec cannot "
        "encode (a private-use character 'a@\\ue000.com', mixed-direction 'a@\\u05d0a.com', a label over "
        "63 letters once punycoded). The shop stores the request/order first and then sends mail to it; "
        "django.core.mail's sanitize_address() raises UnicodeError, in the request (on_commit runs as the "
        "view's transaction commits): HTTP 500 after the row was committed, and no email ever goes out "
        "(fuzz helper: hostile.email_domain_breaks_idna)")
BAD_EMAIL = "a@\ue000.com"


def _posts(client, url, data):
    """Post as production runs it: on_commit callbacks run when the view's transaction commits
    (transaction=True tests), so an exception there is the request's 500."""
    try:
        return client.post(url, data).status_code, None
    except UnicodeError as exc:
        return 500, exc


@pytest.mark.django_db(transaction=True)
def test_bug3_guest_data_request_with_an_unencodable_domain():
    status, exc = _posts(Client(), reverse("privacy:guest_export"), {"email": BAD_EMAIL})
    assert status < 500, f"HTTP {status} ({exc!r}); {PrivacyRequest.objects.count()} request(s) committed"


@pytest.mark.django_db(transaction=True)
def test_bug3_privacy_contact_with_an_unencodable_domain():
    status, exc = _posts(Client(), reverse("privacy:contact"),
                         {"kind": "question", "email": BAD_EMAIL, "message": "What do you hold?"})
    assert status < 500, f"HTTP {status} ({exc!r}); {PrivacyRequest.objects.count()} request(s) committed"


@pytest.mark.django_db(transaction=True)
def test_bug3_checkout_with_marketing_and_an_unencodable_domain():
    from tests.conftest import Shopper

    product = ProductFactory(stock=5)
    client = Client()
    shopper = Shopper(client)
    shopper.add(product)
    try:
        status = shopper.checkout(email=BAD_EMAIL, marketing="on").status_code
    except UnicodeError:
        status = 500
    assert status < 500, (f"HTTP {status}; yet {Order.objects.count()} order(s) placed, stock now "
                          f"{type(product).objects.get(pk=product.pk).stock}, cart lines left "
                          f"{CartItem.objects.count()}")


@pytest.mark.django_db(transaction=True)
def test_bug3_signup_with_an_unencodable_domain():
    status, exc = _posts(Client(), reverse("account_signup"), {
        "email": BAD_EMAIL, "password1": "Walnut-lamp-2026!", "password2": "Walnut-lamp-2026!", "adult": "on"})
    assert status < 500, f"HTTP {status} ({exc!r}); {User.objects.count()} user(s) committed"


# --- BUG 4: the deletion form strips the password ---------------------------------------------

BUG4 = ("BUG 4: privacy/forms.py DeleteAccountForm.password is a CharField with the default strip=True "
        "(allauth's password fields use strip=False): a customer whose password starts or ends with a "
        "space can never delete their account (their exact password is refused), and '  <password>  ' "
        "is taken for the password (fuzz helper: test_privacy._no_stripped_password)")


def test_bug4_a_password_with_surrounding_spaces_can_delete_the_account(client):
    spaced = "  padded walnut lamp 2026  "
    user = UserFactory()
    user.set_password(spaced)
    user.save()
    client.force_login(user)
    response = client.post(reverse("privacy:delete_account"), {"password": spaced})
    assert response.status_code == 302, "the customer's exact password was refused"
    assert PrivacyRequest.objects.filter(user=user, kind="erasure").exists()


def test_bug4_a_padded_wrong_password_is_refused(client, user):
    client.force_login(user)
    response = client.post(reverse("privacy:delete_account"), {"password": f" {PASSWORD} "})
    assert response.status_code == 400, "a password with extra spaces was accepted"
