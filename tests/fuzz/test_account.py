"""Fuzz the personal center (profile, address book), sign-up and sign-in."""
from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django import forms
from django.urls import reverse
from django_countries import countries
from hypothesis import event, example, given
from hypothesis import strategies as st

from privacy.models import MarketingSubscriber
from privacy.protection.crypto import normalise_email
from privacy.protection.emailaddr import EmailAddressField
from shop.models import Address, Cart, CartItem, User
from tests.factories import PASSWORD, UserFactory
from tests.fuzz.hostile import (
    MARKUP,
    assert_no_raw_markup,
    assert_not_5xx,
    assert_shown_escaped,
    assert_unchanged,
    boolean,
    boolish,
    clean_phone,
    clean_text,
    control_chars,
    email_domain_breaks_idna,
    field,
    form,
    fuzz,
    hostile_email,
    hostile_text,
    isolated,
    last,
    mutated,
    normalised_address,
    snapshot,
)

pytestmark = pytest.mark.django_db


def text_or(*valid):
    return st.one_of(st.sampled_from(valid), st.sampled_from(MARKUP), hostile_text())


PHONES = st.one_of(st.sampled_from(["", "+44 20 7946 0000", "(555) 010-0000", "123456", "12345",
                                    "+1 555 0100\n", "+" + "1" * 31]), hostile_text())


# --- profile ----------------------------------------------------------------------------------

@fuzz(60)
@given(body=st.one_of(
    form(name=field(text_or("Ada Lovelace", "")), phone=field(PHONES)),
    mutated({"name": "Ada Lovelace", "phone": ""}, name=field(text_or("Ada")), phone=field(PHONES))))
@example(body={"name": '<script>alert("fz")</script>', "phone": ""})
@example(body={"name": "\u202eevil\u200d\U0001F468\u200d\U0001F469", "phone": "+44 20 7946 0000"})
@example(body={"name": "a" * 10_001})
@example(body={"name": "Ada", "phone": "\x85"})
@example(body={"name": "Ada", "phone": "+1 555 0100\n"})
def test_profile_stores_exactly_or_changes_nothing(member, superuser, body):
    user = member.user
    with isolated():
        before = snapshot()
        response = member.post(reverse("account:profile"), body)
        assert_not_5xx(response, f"profile {body!r}")
        name = clean_text(last(body, "name"), max_length=120, required=False)
        phone = clean_phone(last(body, "phone"))
        if any(ord(c) < 32 for c in (name or "") + (phone or "")):  # the form refuses control characters
            name = None
        phone = phone.strip() if phone is not None else None  # profile_update() strips
        stored = User.objects.get(pk=user.pk)
        event(f"HTTP {response.status_code}")
        if name is None or phone is None or not body:  # an empty POST shows the form again
            assert response.status_code == (400 if body else 200), f"profile accepted {body!r}"
            assert (stored.name, stored.phone) == (user.name, user.phone)
            assert_no_raw_markup(response, "the refused profile form")
            assert_unchanged(before)
            return
        assert response.status_code == 302, f"a valid profile was refused: {body!r}"
        assert (stored.name, stored.phone) == (name, phone), "not stored exactly"
        page = assert_no_raw_markup(member.get(reverse("account:profile")), "the profile")
        assert_shown_escaped(page, name, "the profile")
        page = assert_no_raw_markup(member.get(reverse("account:center")), "the personal center")
        assert_shown_escaped(page, name, "the personal center")
        if "<" in name:
            assert_no_raw_markup(member.get(reverse("privacy:dashboard")), "the privacy dashboard")
            admin = superuser.get(reverse("admin:shop_user_change", args=[user.pk]))
            assert admin.status_code == 200
            assert_no_raw_markup(admin, "the admin user page")


# --- address book -------------------------------------------------------------------------

ADDRESS = {"label": "Home", "name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "", "city": "London",
           "postal_code": "N1 9GU", "region": "", "country": "GB", "phone": ""}
LIMITS = {"label": (40, False), "name": (120, True), "line1": (160, True), "line2": (160, False),
          "city": (100, False), "postal_code": (20, False), "region": (100, False)}
ADDRESS_FIELDS = dict(
    **{n: field(text_or(ADDRESS[n] or "x")) for n in LIMITS},
    country=field(st.one_of(st.sampled_from(["GB", "US", "DE"]), st.sampled_from(["", "gb", "XX", "GBR"]),
                            hostile_text())),
    phone=field(PHONES), is_default=field(boolish()),
)


def expected_address(body) -> dict | None:
    out = {}
    for name, (limit, required) in LIMITS.items():
        value = clean_text(last(body, name), max_length=limit, required=required)
        if value is None:
            return None
        out[name] = value
    if last(body, "country") not in dict(countries):
        return None
    out["country"] = last(body, "country")
    out["phone"] = clean_phone(last(body, "phone"))
    if out["phone"] is None:
        return None
    if any(control_chars(v) for v in out.values()):
        return None  # the address book, like the checkout, refuses control characters
    out = {k: v.strip() for k, v in out.items()}  # address_save() strips every field
    return normalised_address(out)


@pytest.fixture
def address_book(member, fuzz_catalogue):
    """Two addresses of `member`, one of a stranger, and a cart line so the checkout shows
    the address picker."""
    home = Address.objects.create(user=member.user, **{**ADDRESS, "label": "Home"}, is_default=True)
    work = Address.objects.create(user=member.user, **{**ADDRESS, "label": "Work"})
    stranger = Address.objects.create(user=UserFactory(), **ADDRESS, is_default=True)
    CartItem.objects.create(cart=Cart.objects.get_or_create(user=member.user)[0], product=fuzz_catalogue[0],
                            quantity=1)
    return {"new": None, "home": home, "work": work, "stranger": stranger}


@fuzz(60)
@given(target=st.sampled_from(["new", "new", "home", "work", "stranger"]),
       body=st.one_of(form(**ADDRESS_FIELDS), mutated(ADDRESS, **ADDRESS_FIELDS)))
@example(target="new", body={**ADDRESS, "label": '"><img src=x onerror=alert(fz)>', "name": "<fz-tag>",
                             "line1": '</textarea><script>alert("fz")</script>'})
@example(target="work", body={**ADDRESS, "is_default": "on", "city": "Z\u0301\u0301\u0301\u202e"})
@example(target="new", body={**ADDRESS, "city": "0\x1f0"})
def test_address_add_and_edit(member, address_book, target, body):
    user = member.user
    address = address_book[target]
    url = reverse("account:address_new") if address is None else reverse("account:address_edit", args=[address.pk])
    with isolated():
        before = snapshot()
        mine_before = {a.pk: (a.is_default, a.label) for a in Address.objects.filter(user=user)}
        response = member.post(url, body)
        assert_not_5xx(response, f"address {target} {body!r}")
        event(f"{target}: HTTP {response.status_code}")
        if target == "stranger":
            assert response.status_code == 404
            assert_unchanged(before, "(someone else's address)")
            return
        expected = expected_address(body) if body else None
        if expected is None:
            assert response.status_code == (400 if body else 200), f"address accepted {body!r}"
            assert_no_raw_markup(response, "the refused address form")
            assert_unchanged(before)
            assert {a.pk: (a.is_default, a.label) for a in Address.objects.filter(user=user)} == mine_before
            return
        assert response.status_code == 302, f"a valid address was refused: {body!r}"
        mine = Address.objects.filter(user=user)
        assert mine.count() == len(mine_before) + (1 if address is None else 0)
        saved = mine.get(pk=address.pk) if address else mine.order_by("-pk").first()
        assert {n: getattr(saved, n) for n in expected} == expected, "not stored exactly"
        assert mine.filter(is_default=True).count() == 1, "not exactly one default address"
        if boolean(last(body, "is_default")):
            assert saved.is_default

        page = assert_no_raw_markup(member.get(reverse("account:addresses")), "the address book")
        for name in ("label", "name", "line1", "line2", "city", "postal_code", "region"):
            assert_shown_escaped(page, expected[name], "the address book")
        checkout = member.get(reverse("orders:checkout") + f"?address={saved.pk}")
        assert checkout.status_code == 200
        assert_no_raw_markup(checkout, "the checkout (address picker)")
        assert_no_raw_markup(member.get(url if address else reverse("account:address_edit", args=[saved.pk])),
                             "the address form")
        if any("<" in v for v in expected.values()):
            assert_no_raw_markup(member.get(reverse("privacy:dashboard")), "the privacy dashboard")


# --- sign-up ------------------------------------------------------------------------------

STRONG = "Walnut-lamp-2026!"
SIGNUP = {"email": "new.customer@example.com", "password1": STRONG, "password2": STRONG, "adult": "on"}
SIGNUP_FIELDS = dict(
    email=field(st.one_of(st.just("new.customer@example.com"), st.just("TAKEN"), hostile_email())),
    password1=field(st.one_of(st.just(STRONG), hostile_text())),
    password2=field(st.one_of(st.just(STRONG), hostile_text())),
    adult=field(boolish()), marketing=field(boolish()),
    policy_version=field(st.one_of(st.just(""), hostile_text())),
)


@pytest.fixture
def taken(db):
    return UserFactory(email="taken@example.com")


@fuzz(60)
@given(body=st.one_of(form(**SIGNUP_FIELDS), mutated(SIGNUP, **SIGNUP_FIELDS)))
@example(body={**SIGNUP, "email": '"<svg/onload=fz>"@example.com', "marketing": "on"})
@example(body={**SIGNUP, "password2": STRONG + " "})
@example(body={**SIGNUP, "adult": "false"})
def test_signup_creates_one_adult_account_or_nothing(anon, taken, body):
    body = {k: (["taken@example.com" if x == "TAKEN" else x for x in v] if isinstance(v, list)
                else "taken@example.com" if v == "TAKEN" else v) for k, v in body.items()}
    email = last(body, "email")
    if email_domain_breaks_idna(email):
        body["email"] = email = "idna-bug-excluded@example.com"  # BUG 3, see test_known_bugs.py
    with isolated(anon):
        before = snapshot()
        response = anon.post(reverse("account_signup"), body)
        assert_not_5xx(response, f"signup {body!r}")
        created = User.objects.exclude(pk=taken.pk)
        event(f"HTTP {response.status_code}, {'created' if created.exists() else 'nothing created'}")
        try:
            cleaned_email = EmailAddressField().clean(email)  # the one field: canonical form
        except forms.ValidationError:
            cleaned_email = None
        must_refuse = (not boolean(last(body, "adult")) or cleaned_email is None
                       or last(body, "password1") != last(body, "password2")
                       or (cleaned_email or "").lower() == taken.email)
        if must_refuse or not created.exists():
            assert not created.exists(), f"an account was created from {body!r}"
            assert_unchanged(before, f"by a refused sign-up {body!r}")
            if response.status_code == 200:
                assert_no_raw_markup(response, "the refused sign-up form")
            return
        assert response.status_code == 302
        user = created.get()
        assert user.email.lower() == cleaned_email.lower()
        assert user.adult_confirmed_at is not None
        assert user.check_password(last(body, "password1")), "the password was not stored exactly"
        assert not EmailAddress.objects.get(user=user).verified
        assert MarketingSubscriber.objects.filter(user=user).exists() == boolean(last(body, "marketing"))
        assert_no_raw_markup(anon.get(response["Location"]), "the page after sign-up")


# --- sign-in ------------------------------------------------------------------------------

@fuzz(50)
@given(body=form(
    login=field(st.one_of(st.just("USER"), st.just(" USER "), st.just("USER-UPPER"), hostile_email())),
    password=field(st.one_of(st.just(PASSWORD), st.just(PASSWORD + " "), hostile_text())),
    remember=field(boolish())))
@example(body={"login": "USER", "password": PASSWORD})
@example(body={"login": '"><img src=x onerror=alert(fz)>', "password": "x"})
def test_login_signs_in_only_with_the_right_password_and_writes_nothing(anon, user, body):
    def real(v):
        return {"USER": user.email, " USER ": f" {user.email} ", "USER-UPPER": user.email.upper()}.get(v, v)

    body = {k: ([real(x) for x in v] if isinstance(v, list) else real(v)) for k, v in body.items()}
    with isolated(anon):
        before = snapshot()
        response = anon.post(reverse("account_login"), body)
        assert_not_5xx(response, f"login {body!r}")
        login, password = last(body, "login"), last(body, "password")
        right = (isinstance(login, str) and normalise_email(login) == user.email and password == PASSWORD)
        signed_in = "_auth_user_id" in anon.session
        event("signed in" if signed_in else f"refused (HTTP {response.status_code})")
        assert signed_in == right, f"login {body!r}: signed in={signed_in}"
        if not signed_in:
            assert_no_raw_markup(response, "the refused sign-in form")
        assert_unchanged(before, f"by a sign-in {body!r}")
