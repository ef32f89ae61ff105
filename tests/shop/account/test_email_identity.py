"""One identity per email address (issue 12).

A table of look-alike spellings of an address someone already uses, sent through every path
that finds a person by email: sign-up, sign-in, the lockout, password reset, guest orders,
export and erasure (the commands and the admin's erase tool). Each spelling must either be the
SAME identity everywhere, be REFUSED everywhere, or be a DISTINCT identity everywhere; never a
second account for one person, never the real owner's data for a stranger, never a 500.
"""
from __future__ import annotations

import importlib
import json
import re
import zipfile

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.management import CommandError, call_command
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from orders.models import Order
from orders.services import orders_claim_guest
from privacy.models import Disclosure, MarketingSubscriber, PrivacyRequest
from privacy.protection.crypto import blind_index, email_index
from privacy.protection.emailaddr import (
    DOMAIN,
    INVALID,
    LOCAL_PART,
    AmbiguousEmail,
    account_for_email,
    canonical_email,
)
from shop.models import User
from tests.conftest import Shopper
from tests.factories import PASSWORD, OrderFactory, ProductFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

# (id, the address someone already uses, a look-alike spelling of it)
SAME = [
    ("mixed-case", "grace@example.com", "GRACE@Example.COM"),
    ("kelvin-sign", "kate@example.com", "\u212aate@example.com"),
    ("long-s", "sam@example.com", "\u017fam@example.com"),
    ("fullwidth-domain", "grace@example.com", "grace@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"),
    ("combining-accent-domain", "grace@caf\u00e9.example", "grace@cafe\u0301.example"),
    ("unicode-vs-punycode-domain", "grace@b\u00fccher.example", "grace@XN--BCHER-KVA.example"),
    ("surrounding-space", "grace@example.com", "  grace@example.com\u2028"),
]
REFUSED = [  # ... and why, as the person who typed it reads it
    ("dotless-i", "file@example.com", "f\u0131le@example.com", LOCAL_PART),
    ("dotted-capital-i", "ivy@example.com", "\u0130vy@example.com", LOCAL_PART),
    ("sharp-s", "strasse@example.com", "stra\u00dfe@example.com", INVALID),
    ("precomposed-accent-local", "jose@example.com", "jos\u00e9@example.com", INVALID),
    ("combining-accent-local", "jose@example.com", "jose\u0301@example.com", INVALID),
    ("fullwidth-local", "grace@example.com", "\uff47race@example.com", INVALID),
    ("trailing-dot", "grace@example.com", "grace@example.com.", INVALID),
    ("line-separator-in-domain", "grace@example.com", "grace@exa\u2028mple.com", DOMAIN),
]
REASON = {variant: reason for _, _, variant, reason in REFUSED}
DISTINCT = [
    ("sharp-s-domain", "grace@strasse.example", "grace@stra\u00dfe.example"),
    ("dotless-i-domain", "grace@info.example", "grace@\u0131nfo.example"),
]
ALL = [pytest.param(o, v, kind, id=f"{kind}-{i}") for kind, table in
       (("same", SAME), ("refused", REFUSED), ("distinct", DISTINCT)) for i, o, v, *_ in table]


def owner(address: str, **extra) -> User:
    """The person who already uses `address`: an account with a verified email and a password."""
    return UserFactory(email=canonical_email(address), **extra)


def signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def login(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def assert_refused(response, variant: str) -> None:
    """Refused as a form error the person can read and act on, not a server error."""
    assert response.status_code in (200, 400)  # the shop's forms answer 400, allauth's 200
    assert REASON[variant] in response.content.decode()


# --- the canonical form itself ----------------------------------------------------------------

@pytest.mark.parametrize("original, variant, kind", ALL)
def test_each_look_alike_is_the_same_refused_or_distinct(original, variant, kind):
    if kind == "refused":
        with pytest.raises(ValidationError):
            canonical_email(variant)
        return
    assert (canonical_email(variant) == canonical_email(original)) is (kind == "same")
    assert (email_index(variant) == email_index(original)) is (kind == "same")


def test_the_stored_form_is_ascii_with_the_domain_in_punycode():
    assert canonical_email(" Grace.Hopper+Lamp@B\u00dcCHER.Example ") == "grace.hopper+lamp@xn--bcher-kva.example"
    assert canonical_email("\u212aate@stra\u00dfe.de") == "kate@xn--strae-oqa.de"  # IDNA 2008 keeps ß


@pytest.mark.parametrize("value", ["", "@example.com", "grace@", "grace", None, 42, "a" * 65 + "@example.com",
                                   "grace@" + "\u00fc" * 60 + ".com", "grace@\ue000.com", '"a\x01b"@example.com',
                                   "grace@" + ("b" * 63 + ".") * 4 + "com"])  # Django takes 320, the column 254
def test_what_mail_cannot_carry_is_refused_with_a_message(value):
    with pytest.raises(ValidationError) as exc:
        canonical_email(value)
    assert exc.value.messages and all(m.endswith(".") for m in exc.value.messages)


LOOK_ALIKE_CHARS = ("aAiIsSkK\u0131\u0130\u017f\u212a\u00df\u00e9\u0301\uff41\uff20\u2028\u2029\u00fc"
                    ".@-+_\"' \x00\ue000")


@given(value=st.one_of(st.emails().map(str), st.text(alphabet=LOOK_ALIKE_CHARS + "xyz", max_size=30),
                       st.tuples(st.text(alphabet=LOOK_ALIKE_CHARS, min_size=1, max_size=12),
                                 st.text(alphabet=LOOK_ALIKE_CHARS + "bcd", min_size=1, max_size=12))
                       .map(lambda t: f"{t[0]}@{t[1]}.example")))
@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_canonical_form_is_stable_ascii_and_sendable_or_a_clear_refusal(value):
    try:
        canonical = canonical_email(value)
    except ValidationError:
        return
    assert canonical_email(canonical) == canonical  # idempotent: stored values find themselves
    assert canonical.isascii() and canonical == canonical.lower() and len(canonical) <= 254
    validate_email(canonical)
    validate_email(value.strip())  # what every form (allauth's too) accepts as typed
    sanitize_address(canonical, "utf-8")  # the mail path will not fail later
    assert email_index(value) == email_index(canonical)


# --- uniqueness -------------------------------------------------------------------------------

@pytest.mark.parametrize("original, variant", [pytest.param(o, v, id=i) for i, o, v in SAME])
def test_the_database_holds_one_account_per_canonical_address(original, variant):
    first = owner(original)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(variant, password=PASSWORD)
    assert list(User.objects.values_list("pk", "email")) == [(first.pk, canonical_email(original))]


# --- sign-up ----------------------------------------------------------------------------------

@pytest.mark.parametrize("original, variant, kind", ALL)
def test_signup_with_a_look_alike(client, original, variant, kind):
    victim = owner(original)
    mail.outbox.clear()
    response = client.post(reverse("account_signup"), {"email": variant, "password1": "Walnut-lamp-2026!",
                                                       "password2": "Walnut-lamp-2026!", "adult": "on"})
    others = User.objects.exclude(pk=victim.pk)
    if kind == "refused":
        assert_refused(response, variant)
        assert not others.exists() and mail.outbox == []
    elif kind == "same":
        assert response.status_code == 302
        assert not others.exists()  # no second account for the same person
        assert not EmailAddress.objects.exclude(user=victim).exists()
        assert [m.to for m in mail.outbox] == [[victim.email]]  # the owner hears of it, nobody else
        assert EmailAddress.objects.get(user=victim).email == victim.email
    else:
        assert response.status_code == 302
        new = others.get()
        assert new.email == canonical_email(variant) != victim.email
        assert [m.to for m in mail.outbox] == [[new.email]]
        assert list(EmailAddress.objects.filter(user=victim).values_list("email", flat=True)) == [victim.email]


# --- sign-in and the lockout ------------------------------------------------------------------

@pytest.mark.parametrize("original, variant, kind", ALL)
def test_signin_with_a_look_alike(client, original, variant, kind):
    victim = owner(original)
    mail.outbox.clear()
    response = login(client, variant)
    assert signed_in_as(client) == (victim.pk if kind == "same" else None)
    if kind == "refused":
        assert_refused(response, variant)
    else:
        assert response.status_code == (302 if kind == "same" else 200)
    # allauth attaches an unknown spelling to the account it signed in, and mails it a link
    assert list(EmailAddress.objects.filter(user=victim).values_list("email", flat=True)) == [victim.email]
    assert mail.outbox == []


def test_a_look_alike_account_left_from_before_does_not_break_the_owners_signin(client):
    """Before the fix both rows existed and sign-in answered 500 (MultipleObjectsReturned)."""
    victim = owner("sam@example.com")
    legacy = UserFactory(email="legacy@example.com")
    User.objects.filter(pk=legacy.pk).update(email="\u017fam@example.com")  # stored as typed, then
    assert login(client, "SAM@example.com").status_code == 302
    assert signed_in_as(client) == victim.pk
    client.logout()
    login(client, "\u017fam@example.com")  # the same identity now: the owner's account, not the leftover
    assert signed_in_as(client) == victim.pk


@pytest.mark.promise("P26")
@pytest.mark.parametrize("original, variant", [pytest.param(o, v, id=i) for i, o, v in SAME])
def test_failed_attempts_under_any_spelling_lock_the_one_account(client, settings, original, variant):
    victim = owner(original)
    with time_machine.travel(timezone.now(), tick=False):
        for n in range(settings.LOGIN_ATTEMPTS_LIMIT):
            login(client, variant if n % 2 == 0 else original.upper(), "wrong-guess")
        for spelling in (original, variant):
            locked = login(client, spelling)
            assert "Too many failed login attempts" in locked.content.decode()
            assert signed_in_as(client) is None
    assert victim.email == canonical_email(original)


@pytest.mark.promise("P26")
@pytest.mark.parametrize("original, variant", [pytest.param(o, v, id=i) for i, o, v, *_ in REFUSED + DISTINCT])
def test_attempts_with_another_address_do_not_lock_the_owner_out(client, settings, original, variant):
    victim = owner(original)
    for _ in range(settings.LOGIN_ATTEMPTS_LIMIT + 1):
        login(client, variant, "wrong-guess")
    login(client, original)
    assert signed_in_as(client) == victim.pk


# --- password reset ---------------------------------------------------------------------------

@pytest.mark.parametrize("original, variant, kind", ALL)
def test_password_reset_with_a_look_alike(client, original, variant, kind):
    victim = owner(original)
    mail.outbox.clear()
    response = client.post(reverse("account_reset_password"), {"email": variant})
    links = [m for m in mail.outbox if "reset/key" in m.body]
    if kind == "refused":
        assert_refused(response, variant)
        assert mail.outbox == []
    elif kind == "same":
        assert response.status_code == 302
        assert [m.to for m in links] == [[victim.email]]
    else:
        assert response.status_code == 302
        assert links == [] and not any(victim.email in m.to for m in mail.outbox)


# --- guest orders -----------------------------------------------------------------------------

@pytest.mark.parametrize("original, variant, kind", ALL)
def test_a_guest_order_placed_with_a_look_alike(client, original, variant, kind):
    victim = owner(original)
    product = ProductFactory(stock=5)
    shopper = Shopper(client)
    shopper.add(product)
    mail.outbox.clear()
    response = shopper.checkout(email=variant)
    if kind == "refused":
        assert_refused(response, variant)
        assert not Order.objects.exists() and mail.outbox == []
        assert type(product).objects.get(pk=product.pk).stock == 5
        return
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.email == canonical_email(variant)  # stored, and mailed, in the canonical form
    assert orders_claim_guest(user=victim, email=victim.email) == (1 if kind == "same" else 0)
    order.refresh_from_db()
    assert order.user_id == (victim.pk if kind == "same" else None)


# --- export and erasure by staff --------------------------------------------------------------

def _exported_text(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return json.dumps(json.loads(archive.read("data.json")))


@pytest.mark.promise("P17")
@pytest.mark.parametrize("original, variant, kind", ALL)
def test_privacy_export_command_finds_the_owner_only_for_the_same_address(tmp_path, original, variant, kind):
    victim = owner(original, name="Grace Owner")
    output = tmp_path / "export.zip"
    if kind == "same":
        call_command("privacy_export", email=variant, output=str(output))
        assert victim.email in _exported_text(output)
        return
    with pytest.raises(CommandError) as exc:
        call_command("privacy_export", email=variant, output=str(output))
    expected = "Not a usable email address" if kind == "refused" else "Nothing is held for that email."
    assert expected in str(exc.value)
    assert not output.exists()


@pytest.mark.promise("P17")
@pytest.mark.parametrize("original, variant, kind", ALL)
def test_privacy_erase_command_erases_the_owner_only_for_the_same_address(original, variant, kind):
    victim = owner(original)
    guest = OrderFactory(email=canonical_email(original), status=Order.Status.COMPLETED, completed_at=timezone.now())
    if kind == "refused":
        with pytest.raises(CommandError, match="Not a usable email address"):
            call_command("privacy_erase", email=variant)
    else:
        call_command("privacy_erase", email=variant)
    guest.refresh_from_db()
    assert User.objects.filter(pk=victim.pk).exists() is (kind != "same")
    assert (guest.anonymised_at is not None) is (kind == "same")


@pytest.fixture
def erasure_request(client):
    client.force_login(staff_user("Privacy officer"))
    client.post(reverse("admin:privacy_privacyrequest_add"), {"kind": "erasure", "verified_by": "staff"})
    return PrivacyRequest.objects.get(kind="erasure")


@pytest.mark.promise("P17")
@pytest.mark.parametrize("original, variant, kind", ALL)
def test_admin_erase_tool_acts_on_the_owner_only_for_the_same_address(client, erasure_request, original, variant,
                                                                     kind):
    victim = owner(original)
    response = client.post(reverse("admin:privacy_request_erase", args=[erasure_request.pk]),
                           {"email": variant, "confirm": "on"})
    erasure_request.refresh_from_db()
    assert User.objects.filter(pk=victim.pk).exists() is (kind != "same")
    if kind == "refused":
        assert_refused(response, variant)
        assert erasure_request.status != "completed"
    else:
        assert response.status_code == 302


@pytest.fixture
def two_claimants():
    """Left from before the fix: one account's email is another account's verified address."""
    first = owner("grace@example.com", verified=False)
    second = UserFactory(email="second@example.com")
    EmailAddress.objects.create(user=second, email="grace@example.com", verified=True)
    return first, second


@pytest.mark.promise("P17")
def test_a_staff_lookup_that_matches_two_people_refuses_and_says_so(client, tmp_path, two_claimants, erasure_request):
    first, second = two_claimants
    with pytest.raises(AmbiguousEmail, match="2 accounts answer to this address"):
        account_for_email("Grace@Example.com")
    ids = rf"\(user ids {first.pk}, {second.pk}\)"
    with pytest.raises(CommandError, match=rf"2 accounts answer to this address {ids}"):
        call_command("privacy_export", email="grace@example.com", output=str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()
    with pytest.raises(CommandError, match="2 accounts answer"):
        call_command("privacy_erase", email="GRACE@example.com")
    response = client.post(reverse("admin:privacy_request_erase", args=[erasure_request.pk]),
                           {"email": "grace@example.com", "confirm": "on"})
    assert response.status_code == 200 and "2 accounts answer to this address" in response.content.decode()
    assert User.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    erasure_request.refresh_from_db()
    assert erasure_request.status != "completed"


# --- what mail cannot carry is refused before anything is written -----------------------------

UNSENDABLE = [("grace@exa\u2028mple.com", DOMAIN), ("grace@exa\u2029mple.com", DOMAIN), ("grace@\ue000.com", DOMAIN),
              ("grace@\u05d0a.com", DOMAIN), ("f\u0131le@example.com", LOCAL_PART)]


@pytest.mark.parametrize("address, reason", UNSENDABLE)
def test_every_form_refuses_an_address_mail_cannot_carry_and_writes_nothing(client, address, reason):
    posts = [(reverse("privacy:contact"), {"kind": "question", "email": address, "message": "What do you hold?"}),
             (reverse("privacy:guest_export"), {"email": address}),
             (reverse("orders:support"), {"email": address, "subject": "Lamp", "message": "It flickers."}),
             (reverse("account_signup"), {"email": address, "password1": "Walnut-lamp-2026!",
                                          "password2": "Walnut-lamp-2026!", "adult": "on"}),
             (reverse("account_reset_password"), {"email": address})]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (200, 400), url
        assert reason in response.content.decode(), url
    assert not PrivacyRequest.objects.exists() and not User.objects.exists()
    assert not MarketingSubscriber.objects.exists()
    assert mail.outbox == []


# --- the data migration -----------------------------------------------------------------------

def test_the_migration_gives_existing_rows_their_canonical_form(capsys):
    migration = importlib.import_module("shop.migrations.0005_email_canonical_form")

    def legacy(user: User, email: str) -> User:
        User.objects.filter(pk=user.pk).update(email=email)
        EmailAddress.objects.filter(user=user).update(email=email.lower())  # allauth only lower-cased
        return user

    sam = owner("sam@example.com")
    look_alike = legacy(UserFactory(), "\u017fam@example.com")  # collides with sam: left for review
    grace = legacy(UserFactory(), "Grace@B\u00fcCHER.example")
    dotless = legacy(UserFactory(), "f\u0131le@example.com")  # no canonical form: left for review
    kate_unverified = legacy(UserFactory(verified=False), "KATE@example.com")
    kate_verified = legacy(UserFactory(), "\u212aate@example.com")  # the verified one of two look-alikes wins
    EmailAddress.objects.create(user=sam, email="s\u0131m@example.com")  # attached look-alike, never verified
    old = {"email": "Ada@B\u00fccher.example"}
    old_index = blind_index(old["email"].lower(), purpose="email")
    order = OrderFactory(**old)
    Order.objects.filter(pk=order.pk).update(email_index=old_index)
    Disclosure.objects.create(processor="carrier", purpose="x", country="US", safeguard="x", guest_index=old_index)
    MarketingSubscriber.objects.create(email="ada@xn--bcher-kva.example", token="a" * 32,
                                       email_index=email_index("ada@bücher.example"))
    duplicate = MarketingSubscriber.objects.create(email=old["email"], email_index=old_index, token="b" * 32)

    review = migration.accounts_canonicalise(apps, None)
    migration.guests_canonicalise(apps, None)

    assert review == sorted([look_alike.pk, dotless.pk, kate_unverified.pk])
    assert str(look_alike.pk) in capsys.readouterr().out
    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[sam.pk] == "sam@example.com" and emails[look_alike.pk] == "\u017fam@example.com"
    assert emails[grace.pk] == "grace@xn--bcher-kva.example" and emails[dotless.pk] == "f\u0131le@example.com"
    assert emails[kate_verified.pk] == "kate@example.com" and emails[kate_unverified.pk] == "KATE@example.com"
    assert list(EmailAddress.objects.filter(user=sam).values_list("email", flat=True)) == ["sam@example.com"]
    assert EmailAddress.objects.get(user=grace).email == "grace@xn--bcher-kva.example"
    assert account_for_email("GRACE@bücher.example") == grace
    order.refresh_from_db()
    assert (order.email, order.email_index) == ("ada@xn--bcher-kva.example", email_index("ada@bücher.example"))
    assert Disclosure.objects.get().guest_index == email_index("ada@bücher.example")
    duplicate.refresh_from_db()
    assert duplicate.email_index == old_index  # the same person is already subscribed: left, not a crash
    migration.accounts_canonicalise(apps, None)
    migration.guests_canonicalise(apps, None)  # running again changes nothing
    assert dict(User.objects.values_list("pk", "email")) == emails


def test_signup_stores_the_canonical_form_in_user_and_allauth(client):
    client.post(reverse("account_signup"), {"email": "  Grace@B\u00fcCHER.example ", "password1": "Walnut-lamp-2026!",
                                            "password2": "Walnut-lamp-2026!", "adult": "on"})
    user = User.objects.get()
    assert user.email == "grace@xn--bcher-kva.example"
    assert EmailAddress.objects.get(user=user).email == user.email
    assert [m.to for m in mail.outbox] == [[user.email]]
    link = re.search(r"(/accounts/confirm-email/[^\s]+/)", mail.outbox[0].body).group(1)
    client.post(link)
    login(client, "grace@bücher.example", "Walnut-lamp-2026!")
    assert signed_in_as(client) == user.pk
