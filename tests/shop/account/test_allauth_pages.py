"""allauth's pages speak in the shop's voice: its layout, sentence-case headings, labels without
colons, and nothing that points at something the page does not show."""
import re

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.urls import reverse

from shop.models import User
from tests.factories import UserFactory, enable_mfa, staff_user

pytestmark = pytest.mark.django_db


def h1(page: str) -> str:
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert len(found) == 1, found
    return " ".join(re.sub(r"<[^>]+>", "", found[0]).split())


def labels(page: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", "", x).split()) for x in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]


def assert_shop_page(page: str, heading: str) -> None:
    """The shop's layout (its header and footer), the heading as written, and readable labels."""
    assert 'class="site-header"' in page and 'class="site-footer"' in page
    assert h1(page) == heading
    words = heading.split()
    assert all(w[0].islower() or not w[0].isalpha() for w in words[1:]), f"Title Case heading: {heading}"
    for label in labels(page):
        assert not label.rstrip(" *").endswith(":"), f"colon label: {label!r}"
    assert "User #" not in page


def login(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:3000]


@pytest.fixture
def member(db, password):
    user = UserFactory(email="ada@example.com")
    user.set_password(password)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


@pytest.mark.parametrize(("url", "heading", "field_labels"), [
    ("account_login", "Sign in", ["Email", "Password", "Keep me signed in on this device"]),
    ("account_signup", "Create an account", None),
    ("account_reset_password", "Reset your password", ["Email"]),
    ("account_reset_password_done", "Check your email", []),
])
def test_entrance_pages_read_like_the_shop(client, url, heading, field_labels):
    response = client.get(reverse(url))
    page = response.content.decode()
    assert response.status_code == 200
    assert_shop_page(page, heading)
    if field_labels is not None:
        assert [x.rstrip(" *") for x in labels(page) if x != "Search products"] == field_labels
    assert "Sign In" not in page and "Sign Up" not in page


def test_sign_in_links_to_sign_up_and_to_the_password_reset(client):
    page = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") in page and reverse("account_reset_password") in page


def test_wrong_password_says_so_and_signs_nobody_in(client, member):
    response = client.post(reverse("account_login"), {"login": member.email, "password": "not-it"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="message message-error"' in page and "not correct" in page
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("url", "heading"), [
    ("account_email", "Your email address"),
    ("account_change_password", "Change your password"),
    ("usersessions_list", "Where you are signed in"),
    ("mfa_index", "Two-factor authentication"),
    ("account_logout", "Sign out"),
])
def test_account_pages_read_like_the_shop(client, member, password, url, heading):
    login(client, member, password)
    response = client.get(reverse(url))
    page = response.content.decode()
    assert response.status_code == 200
    assert_shop_page(page, heading)
    assert 'class="account-menu"' in page  # the personal center's menu, as on the other account pages


def test_email_page_shows_the_current_address_without_colon_labels(client, member, password):
    login(client, member, password)
    page = client.get(reverse("account_email")).content.decode()
    assert "Current address" in page and member.email in page
    assert "New email address" in labels(page)
    assert "Current email:" not in page and "Change to:" not in page


def test_sessions_page_dates_are_for_people(client, member, password):
    login(client, member, password)
    page = client.get(reverse("usersessions_list")).content.decode()
    assert "This browser" in page
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", page)  # no microseconds
    assert "Started At" not in page and "IP Address" not in page


def test_turning_on_the_app_first_asks_to_confirm_it_is_you_and_says_what_comes_next(client, member):
    client.force_login(member)  # no recent password entry: allauth asks for it again
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain and "/reauthenticate/" in response.redirect_chain[-1][0]
    assert_shop_page(page, "Confirm it is you")
    assert "set up an authenticator app" in page
    assert "below" not in page.lower()
    assert "Password" in [x.rstrip(" *") for x in labels(page)]


def test_set_up_page_shows_the_qr_code_the_key_and_the_code_field(client, member, password):
    login(client, member, password)
    client.post(reverse("account_reauthenticate"), {"password": password})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    assert_shop_page(page, "Set up an authenticator app")
    assert 'class="totp-qr" src="data:image/svg+xml' in page
    assert 'id="authenticator_secret"' in page
    assert "Authenticator code" in [x.rstrip(" *") for x in labels(page)]


def test_staff_without_two_factor_is_sent_to_a_page_that_shows_what_the_message_promises(client, password):
    staff = staff_user(mfa=False, email="new.staff@example.com")
    staff.set_password(password)
    staff.save()
    EmailAddress.objects.update_or_create(user=staff, email=staff.email, defaults={"verified": True, "primary": True})
    login(client, staff, password)
    response = client.get(reverse("admin:index"), follow=True)
    page = response.content.decode()
    assert "/reauthenticate/" in response.redirect_chain[-1][0]
    assert "set up an authenticator app to continue" in page  # the admin's message...
    assert "Next you will set up an authenticator app" in page  # ...and the page says what happens first
    assert h1(page) == "Confirm it is you" and "below" not in page.lower()
    response = client.post(response.redirect_chain[-1][0], {"password": password}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert h1(page) == "Set up an authenticator app"
    assert 'class="totp-qr"' in page and 'id="authenticator_secret"' in page


def test_sign_in_with_two_factor_asks_for_the_code_in_plain_words(client, member, password):
    enable_mfa(member)
    login(client, member, password)
    page = client.get(reverse("mfa_authenticate")).content.decode()
    assert_shop_page(page, "Enter your authenticator code")
    assert "Authenticator code" in [x.rstrip(" *") for x in labels(page)]


def test_seeded_staff_account_is_verified_and_can_sign_in_without_an_email_round_trip(client, mailoutbox):
    from shop.management.commands.seed_demo import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD

    call_command("seed_demo", products=1, categories=1, no_images=True, verbosity=0)
    call_command("seed_demo", products=1, categories=1, no_images=True, verbosity=0)  # idempotent
    staff = User.objects.get(email=DEMO_STAFF_EMAIL)
    address = EmailAddress.objects.get(user=staff)
    assert address.verified and address.primary and address.email == DEMO_STAFF_EMAIL
    response = client.post(reverse("account_login"), {"login": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD})
    assert response.status_code == 302 and response["Location"] != reverse("account_email_verification_sent")
    assert mailoutbox == []
