"""The one canonical form of an email address, and the one email validator.

Every place that stores, compares or looks up an email goes through canonical_email():
account uniqueness (a plain unique on shop.User.email), sign-in, the per-email lockout key,
allauth's EmailAddress rows, the blind index (privacy.protection.crypto.email_index), guest-order
matching and every staff tool. So they cannot disagree, and no lookup relies on the
database's case folding (PostgreSQL's UPPER() folds dotless ı onto I and long ſ onto S,
which is how a look-alike could pass for someone else): matches are exact, on this form.

The stored form is entirely ASCII, built like this:

- surrounding whitespace is stripped, and the address must pass Django's EmailValidator as
  typed, so every form (allauth's included) accepts exactly what this function accepts: a
  trailing dot in the domain or fullwidth letters before the @ are refused, never repaired;
- Unicode NFKC: compatibility spellings become the character they stand for (Kelvin sign →
  K, long ſ → s, fullwidth letters in the domain → ASCII, a letter plus combining accent →
  the precomposed letter), so they are the same address;
- the part before the @ is casefolded and must then be printable ASCII. Our mail path (SMTP
  without SMTPUTF8) cannot carry other letters there, and folding them to ASCII would send
  someone's mail to another mailbox (ß → ss, ı → i), so dotless ı, ß or é before the @ are
  refused;
- the domain is lower-cased; an internationalised one is IDNA 2008 encoded (UTS 46 mapping,
  non-transitional, so straße.de stays apart from strasse.de as DNS keeps them) to its
  ASCII xn-- form: what mail is sent to and what DNS knows, one spelling per domain, so the
  database's own Unicode folding never comes into play;
- at most 64 characters before the @ and 254 in all (SMTP's limits, and the column's).
"""
from __future__ import annotations

import unicodedata

import idna
from django import forms
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email

INVALID = "Enter a valid email address."
LOCAL_PART = ("Before the @, use only unaccented letters (a–z), digits and punctuation: "
              "mail cannot be delivered to other characters there.")
DOMAIN = "Mail cannot be delivered to this domain; please check it."
TOO_LONG = "This email address is too long for mail to be delivered."


class AmbiguousEmail(Exception):
    """A staff lookup found more than one person for one address: refuse rather than guess."""


def canonical_email(value: str) -> str:
    """The canonical form of `value` (see the module docstring), or ValidationError with a
    message fit for the person who typed it. Idempotent: canonical_email(c) == c."""
    if not isinstance(value, str):
        raise ValidationError(INVALID, code="invalid")
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        # allauth lower-cases before asking us, and "İ".lower() is two characters: say the same
        # thing for a non-ASCII local part, whichever spelling reached us.
        raise ValidationError(INVALID if value.rpartition("@")[0].isascii() else LOCAL_PART,
                              code="invalid") from None
    local, domain = value.rsplit("@", 1)
    local = unicodedata.normalize("NFKC", local).casefold()
    if not all("!" <= c <= "~" for c in local):
        raise ValidationError(LOCAL_PART, code="local_part")
    domain = unicodedata.normalize("NFKC", domain)
    if domain.isascii():
        domain = domain.lower()
    else:
        try:
            domain = idna.encode(domain, uts46=True, std3_rules=True, transitional=False).decode("ascii")
        except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
            raise ValidationError(DOMAIN, code="domain") from None
    address = f"{local}@{domain}"
    if len(local) > 64 or len(address) > 254:
        raise ValidationError(TOO_LONG, code="too_long")
    validate_email(address)  # NFKC may have made the parts into something else (e.g. a fullwidth ＠)
    try:
        sanitize_address(address, "utf-8")  # the mail path's own check, so sending cannot fail later
    except (UnicodeError, ValueError):
        raise ValidationError(DOMAIN, code="domain") from None
    return address


def validate_email_address(value: str) -> None:
    """The one email validator, for form and model fields: refuses, before anything is
    stored, every address the mail path could not send to."""
    canonical_email(value)


class EmailAddressField(forms.EmailField):
    """A form's email field: validated by the one validator, cleaned to the canonical form."""

    def run_validators(self, value) -> None:
        # Django's own check first, then ours, as allauth's forms do (its field, then our
        # adapter): every form refuses the same addresses with the same message.
        super().run_validators(value)
        if value not in self.empty_values:
            validate_email_address(value)

    def clean(self, value):
        value = super().clean(value)
        return canonical_email(value) if value else value


def account_for_email(value: str):
    """The one account answering to this address, or None. Staff tools act on a person
    found here, so more than one candidate (an account's address and another account's
    verified address) raises AmbiguousEmail instead of picking one; ValidationError for
    an address that has no canonical form."""
    # Django forces these inside: shop.models imports this module while the models load.
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    email = canonical_email(value)
    users = get_user_model()._default_manager
    ids = set(users.filter(email=email).values_list("pk", flat=True))
    ids |= set(EmailAddress.objects.filter(email=email, verified=True).values_list("user_id", flat=True))
    if len(ids) > 1:
        raise AmbiguousEmail(f"{len(ids)} accounts answer to this address (user ids "
                             f"{', '.join(map(str, sorted(ids)))}); nothing was done. Resolve it by account id.")
    return users.filter(pk__in=ids).first()
