import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from orders.models import Order
from shop.models import Address
from tests.factories import OrderFactory, UserFactory, enable_mfa, staff_user

pytestmark = pytest.mark.django_db

HOME = {"label": "Home", "name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "", "city": "London",
        "postal_code": "N1 9GU", "region": "", "country": "GB", "phone": "+44 20 7946 0942"}


@pytest.mark.promise("P17")
def test_profile_can_be_viewed_and_corrected_at_once(signed_in, user):
    signed_in.post(reverse("account:profile"), {"name": "Ada King", "phone": "+44 1234 567890"})
    user.refresh_from_db()
    assert (user.name, user.phone) == ("Ada King", "+44 1234 567890")
    page = signed_in.get(reverse("account:profile")).content.decode()
    assert 'value="Ada King"' in page
    signed_in.post(reverse("account:profile"), {"name": "Ada Lovelace", "phone": ""})
    user.refresh_from_db()
    assert (user.name, user.phone) == ("Ada Lovelace", "")


def test_a_bad_phone_is_explained_and_nothing_changes(signed_in, user):
    response = signed_in.post(reverse("account:profile"), {"name": "Eve", "phone": "<script>"})
    assert response.status_code == 400
    assert "Enter a phone number" in response.content.decode()
    user.refresh_from_db()
    assert user.name == ""


def test_address_book_add_edit_default_delete(signed_in, user):
    signed_in.post(reverse("account:address_new"), HOME)
    work = {**HOME, "label": "Work", "line1": "1 Babbage Street", "is_default": "on"}
    signed_in.post(reverse("account:address_new"), work)
    home, office = Address.objects.order_by("pk")
    assert (home.is_default, office.is_default) == (False, True)  # one default only
    signed_in.post(reverse("account:address_default", args=[home.pk]))
    assert list(Address.objects.filter(is_default=True)) == [home]
    signed_in.post(reverse("account:address_edit", args=[office.pk]), {**work, "city": "Cambridge", "is_default": ""})
    office.refresh_from_db()
    assert office.city == "Cambridge" and not office.is_default
    signed_in.post(reverse("account:address_delete", args=[home.pk]))
    assert list(Address.objects.all()) == [office]
    assert Address.objects.get().is_default  # the remaining one becomes the default
    page = signed_in.get(reverse("account:addresses")).content.decode()
    assert "1 Babbage Street" in page and "Cambridge" in page


def test_another_users_address_is_404_and_untouched(client, user):
    owner = UserFactory()
    theirs = Address.objects.create(user=owner, **{k: v for k, v in HOME.items()}, is_default=True)
    client.force_login(user)
    assert client.get(reverse("account:address_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("account:address_edit", args=[theirs.pk]), {**HOME, "city": "Hacked"}).status_code == 404
    assert client.post(reverse("account:address_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("account:address_default", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.city == "London"


def test_personal_center_needs_sign_in(client, db):
    for name in ("account:center", "account:profile", "account:addresses", "orders:mine", "account:security"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_checkout_offers_the_address_book(signed_in, user, shopper, product):
    Address.objects.create(user=user, **HOME, is_default=True)
    other = Address.objects.create(user=user, **{**HOME, "label": "Work", "line1": "1 Babbage Street"})
    shopper.add(product)
    page = signed_in.get(reverse("orders:checkout")).content.decode()
    assert 'value="12 Analytical Row"' in page  # the default is prefilled
    assert f"?address={other.pk}" in page
    chosen = signed_in.get(reverse("orders:checkout"), {"address": other.pk}).content.decode()
    assert 'value="1 Babbage Street"' in chosen
    stranger = Address.objects.create(user=UserFactory(), **{**HOME, "line1": "99 Secret Lane"})
    assert "99 Secret Lane" not in signed_in.get(reverse("orders:checkout"), {"address": stranger.pk}).content.decode()


def test_order_history_lists_only_my_orders_with_status_and_tracking(signed_in, user):
    mine = OrderFactory(user=user, status=Order.Status.SHIPPED, carrier="Parcelways", tracking_number="PW1")
    theirs = OrderFactory(user=UserFactory())
    page = signed_in.get(reverse("orders:mine")).content.decode()
    assert mine.reference in page and "Shipped" in page and "PW1" in page
    assert theirs.reference not in page
    detail = signed_in.get(mine.get_absolute_url()).content.decode()
    assert "PW1" in detail and "Parcelways" in detail
    assert signed_in.get(theirs.get_absolute_url()).status_code == 404


def test_security_page_and_signing_out_everywhere_else(user, password):
    phone, laptop = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1"), Client(
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36")
    for browser in (phone, laptop):
        browser.post(reverse("account_login"), {"login": user.email, "password": password})
        browser.get(reverse("account:center"))
    assert UserSession.objects.filter(user=user).count() == 2
    page = laptop.get(reverse("account:security")).content.decode()
    assert "2 sessions" in page
    sessions_page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Chrome on Linux" in sessions_page and "Safari on iOS" in sessions_page
    laptop.post(reverse("usersessions_list"), {})
    assert phone.get(reverse("account:center")).status_code == 302  # signed out there
    assert laptop.get(reverse("account:center")).status_code == 200  # still signed in here


@pytest.mark.promise("P28")
def test_sessions_keep_only_a_truncated_ip_and_a_coarse_browser(user, password):
    browser = Client(REMOTE_ADDR="203.0.113.77",
                     HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/141.0 build-8f3a9c")
    browser.post(reverse("account_login"), {"login": user.email, "password": password})
    browser.get(reverse("account:center"))
    session = UserSession.objects.get(user=user)
    assert (session.ip, session.user_agent) == ("203.0.113.0", "Firefox on Windows")


@pytest.mark.promise("P11")
def test_staff_without_mfa_cannot_reach_any_admin_page(client, db):
    staff = staff_user("Customer service", mfa=False)
    client.force_login(staff)
    for url in (reverse("admin:index"), reverse("admin:orders_order_changelist"),
                reverse("admin:privacy_accesslogentry_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    enable_mfa(staff)
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 200


@pytest.mark.promise("P11")
def test_a_customer_can_never_reach_the_admin(client, user):
    enable_mfa(user)  # even with MFA
    client.force_login(user)
    for url in (reverse("admin:index"), reverse("admin:orders_order_changelist"), reverse("admin:shop_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_sign_in_through_the_shop_login_and_need_their_second_factor(client, db):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    from tests.factories import PASSWORD, TOTP_SECRET

    staff = staff_user("Customer service")
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    code = format_hotp_value(hotp_value(TOTP_SECRET, next(iter(yield_hotp_counters_from_time()))))
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert int(client.session["_auth_user_id"]) == staff.pk
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 200


@pytest.mark.promise("P10")
def test_totp_secrets_are_encrypted_in_the_database(db):
    from django.db import connection

    from tests.factories import TOTP_SECRET

    staff_user("Fulfilment")
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator")
        stored = str(cursor.fetchall())
    assert TOTP_SECRET not in stored and "enc1:" in stored


def test_the_profile_refuses_what_the_checkout_would_refuse(signed_in, user):
    response = signed_in.post(reverse("account:profile"), {"name": "Ada\tLovelace", "phone": ""})
    assert response.status_code == 400 and "Control characters are not allowed." in response.content.decode()
    user.refresh_from_db()
    assert user.name == ""
