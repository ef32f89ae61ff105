"""One URL converter per kind of reference or token that appears in the shop's URLs.

Each converter's pattern is the exact alphabet (and length) its kind is made of, so every link
the shop generates resolves, and anything else (NUL and other control characters, non-ASCII
letters and digits, 10,000-character values) does not match the route: a plain 404 before any
view runs, never a query the database refuses (PostgreSQL answers a NUL byte with an error).
Python's `[0-9]` and `[A-Z]` are ASCII-only; `\\d` and `\\w` would not be, so none are used.

Registered here once; every urls.py imports this module before using the names.
"""
from __future__ import annotations

from django.urls import register_converter

# A policy version's name: a slug, so every URL and file name can carry it (privacy.models.PolicyVersion).
POLICY_VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"


class _Text:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


class OrderReferenceConverter(_Text):
    """orders.models.new_reference(): 12 symbols of REFERENCE_ALPHABET (capitals and digits)."""

    regex = "[0-9A-Z]{12}"


class SignedTokenConverter(_Text):
    """django.core.signing.dumps(): URL-safe base64, ':' separators, '.' when compressed. The
    longest the shop signs (an order link) is under 100 characters."""

    regex = "[A-Za-z0-9_:.-]{1,300}"


class SecretTokenConverter(_Text):
    """Random secrets (secrets.token_hex(16), token_urlsafe()[:32]) kept in 32-character fields."""

    regex = "[A-Za-z0-9_-]{1,32}"


class PolicyVersionConverter(_Text):
    """PolicyVersion.version, whose validator uses the same pattern."""

    regex = POLICY_VERSION_PATTERN


register_converter(OrderReferenceConverter, "ref")
register_converter(SignedTokenConverter, "signed")
register_converter(SecretTokenConverter, "token")
register_converter(PolicyVersionConverter, "version")
