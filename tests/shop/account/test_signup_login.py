import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from shop.models import User
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Walnut-lamp-2026!"


def signup(client, **overrides):
    data = {"email": "new.customer@example.com", "password1": PASSWORD, "password2": PASSWORD, "adult": "on"}
    data.update(overrides)
    return client.post(reverse("account_signup"), data)


def confirmation_link(message) -> str:
    return re.search(r"(/accounts/confirm-email/[^\s]+/)", message.body).group(1)


@pytest.mark.promise("P1")
@pytest.mark.promise("P20")
def test_signup_asks_only_email_password_and_adulthood(client):
    page = client.get(reverse("account_signup")).content.decode()
    form = page[page.index('action="/accounts/signup/"'):]
    form = form[:form.index("</form>")]
    names = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z0-9_]+)"', form)) - {"csrfmiddlewaretoken"}
    assert names == {"email", "password1", "password2", "adult", "marketing", "policy_version"}
    assert 'name="marketing"' in page and 'name="marketing" checked' not in page
    assert "birth" not in page.lower() and "gender" not in page.lower()
    assert "I am 18 or older" in page
    assert reverse("privacy:policy") in page


@pytest.mark.promise("P20")
def test_a_minor_who_does_not_confirm_18_cannot_register(client):
    response = signup(client, adult="")
    assert response.status_code == 200
    assert "You must be 18 or older to open an account: we do not serve minors." in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.promise("P3")
def test_signup_verify_by_emailed_link_then_sign_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="new.customer@example.com")
    assert user.adult_confirmed_at is not None
    assert user.password.startswith("argon2$") and PASSWORD not in user.password
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    client.logout()
    refused = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session  # not signed in before verifying
    link = confirmation_link(mail.outbox[-1])
    client.post(link)
    assert EmailAddress.objects.get(user=user).verified
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == user.pk


def test_guest_orders_with_the_same_email_appear_once_the_email_is_verified(client):
    earlier = OrderFactory(email="New.Customer@example.com", status=Order.Status.DELIVERED)
    someone_else = OrderFactory(email="other@example.com")
    signup(client)
    user = User.objects.get()
    assert not Order.objects.filter(user=user).exists()  # not before verification
    client.post(confirmation_link(mail.outbox[-1]))
    assert list(Order.objects.filter(user=user)) == [earlier]
    assert Order.objects.get(pk=someone_else.pk).user is None
    client.force_login(user)
    assert earlier.reference in client.get(reverse("orders:mine")).content.decode()


def test_sign_out_and_password_reset(client, user, password):
    client.force_login(user)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    new = "Another-walnut-lamp-77"
    client.post(form_page.redirect_chain[-1][0], {"password1": new, "password2": new})
    user.refresh_from_db()
    assert user.check_password(new) and not user.check_password(password)


def test_password_reset_does_not_reveal_whether_an_account_exists(client, db):
    UserFactory(email="known@example.com")
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    to_stranger = list(mail.outbox)
    mail.outbox = []
    known = client.post(reverse("account_reset_password"), {"email": "known@example.com"})
    # The page answers the same either way; only the mailbox owner learns which it was.
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"]) == (
        302, reverse("account_reset_password_done"))
    assert [m.to for m in to_stranger] == [["nobody@example.com"]]
    assert "reset/key" not in to_stranger[0].body and "record of such an account" in to_stranger[0].body
    assert [m.to for m in mail.outbox] == [["known@example.com"]] and "reset/key" in mail.outbox[0].body


def test_password_change(client, user, password):
    client.force_login(user)
    new = "Brand-new-walnut-lamp-9"
    client.post(reverse("account_change_password"), {"oldpassword": password, "password1": new, "password2": new})
    user.refresh_from_db()
    assert user.check_password(new)


def test_change_of_email_takes_effect_only_once_verified(client, user):
    client.force_login(user)
    old = user.email
    client.post(reverse("account_email"), {"action_add": "", "email": "changed@example.com"})
    user.refresh_from_db()
    assert user.email == old
    link = confirmation_link(next(m for m in mail.outbox if "changed@example.com" in m.to))
    client.post(link)
    user.refresh_from_db()
    assert user.email == "changed@example.com"


@pytest.mark.promise("P26")
def test_failed_logins_lock_the_account_then_the_lock_lifts(client, user, password, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(settings.LOGIN_ATTEMPTS_LIMIT):
            response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-guess"})
            assert "The email address and/or password you specified are not correct." in response.content.decode()
        locked = client.post(reverse("account_login"), {"login": user.email, "password": password})
        assert "Too many failed login attempts. Try again later." in locked.content.decode()
        assert "_auth_user_id" not in client.session  # even the right password is refused while locked
        clock.shift(settings.LOGIN_LOCKOUT_SECONDS - 60)
        still = client.post(reverse("account_login"), {"login": user.email, "password": password})
        assert "Too many failed login attempts" in still.content.decode()
        clock.shift(120)
        client.post(reverse("account_login"), {"login": user.email, "password": password})
        assert int(client.session["_auth_user_id"]) == user.pk


def test_the_lockout_is_per_account(client, user, password, settings):
    other = UserFactory()
    for _ in range(settings.LOGIN_ATTEMPTS_LIMIT):
        client.post(reverse("account_login"), {"login": other.email, "password": "wrong-guess"})
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.promise("P3")
def test_signup_email_names_the_shop_not_the_host_or_a_user_number(client, settings):
    signup(client)
    message = mail.outbox[-1]
    text = re.sub(r"https?://\S+", "", message.subject + message.body)  # links keep the real address
    assert settings.SHOP_NAME in text
    assert "User #" not in text
    assert "testserver" not in text and not re.search(r"[a-z0-9.]+:\d{2,5}", text)
    assert f"[{settings.SHOP_NAME}]" in message.subject


def test_a_person_is_shown_by_name_else_email():
    from allauth.account.utils import user_display
    assert user_display(UserFactory.build(name="Ada Lovelace", email="ada@example.com")) == "Ada Lovelace"
    assert user_display(UserFactory.build(name="", email="ada@example.com")) == "ada@example.com"
