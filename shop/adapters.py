"""allauth adapters: how much of the network we keep, and how MFA secrets are stored."""
from __future__ import annotations

import base64

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.utils.crypto import get_random_string
from django.utils.html import strip_tags

from privacy.processors import send_personal_email
from privacy.protection import KEY_RING, canonical_email, client_ip, email_index


class ShopSite:
    """The site allauth names in its mails and pages: the shop's name and domain from settings."""

    def __init__(self) -> None:
        self.name = settings.SHOP_NAME
        self.domain = settings.SHOP_DOMAIN

    def __str__(self) -> str:
        return self.name


def user_display(user) -> str:
    """How allauth shows a person: their name, else their email address."""
    name = (getattr(user, "name", "") or "").strip()
    return name or getattr(user, "email", "") or ""


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        # Every allauth form (sign-up, password reset, adding an address) stores and looks up
        # the canonical form, so its EmailAddress rows match ours exactly.
        return super().clean_email(canonical_email(email))

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # The per-email lockout counts every spelling of one address together (allauth's own
        # key only lower-cases it); the blind index keeps the address itself out of the cache.
        login = credentials.get("email", credentials.get("username", ""))
        return f"{get_current_site(request).domain}:{email_index(login)}"

    def get_client_ip(self, request) -> str:
        # One client IP for allauth's limits, our own limits and the session list: the client behind the
        # trusted proxy, truncated to /24 or /48 (P28).
        return client_ip(request)

    def respond_email_verification_sent(self, request, user):
        if user is None:
            # Sign-up with an address that already has an account (prevent-enumeration path): do the
            # password hashing a new account costs, so the response time does not tell the two apart.
            make_password(get_random_string(32))
        return super().respond_email_verification_sent(request, user)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's mails (confirmation, reset, notifications) take the shop's one mail path:
        # allowed fields checked, the disclosure recorded. allauth still renders them.
        request = allauth_context.request
        user = context.get("user")
        if user is None and getattr(getattr(request, "user", None), "is_authenticated", False):
            user = request.user  # notifications (password changed...) are about the person signed in
        name = (getattr(user, "name", "") or "").strip()  # the greeting: their name or nothing, never the address
        ctx = {"request": request, "email": email, "current_site": ShopSite(), "shop_name": settings.SHOP_NAME,
               "name": name, **context}
        msg = self.render_mail(template_prefix, email, ctx)
        text, html = msg.body, dict((mime, body) for body, mime in getattr(msg, "alternatives", [])).get("text/html")
        if msg.content_subtype == "html":  # only an HTML template exists
            text, html = strip_tags(msg.body), msg.body
        send_personal_email(to=email, subject=msg.subject, text=text, html=html, from_email=msg.from_email,
                            fields=["user.email"], subject_user_id=getattr(user, "pk", None),
                            guest_index=email_index(email), reference=template_prefix.rsplit("/", 1)[-1],
                            headers=msg.extra_headers or None)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted with the shop's key ring (P10)."""

    PREFIX = "enc1:"

    def encrypt(self, text: str) -> str:
        return self.PREFIX + base64.urlsafe_b64encode(KEY_RING.encrypt(text.encode())).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(self.PREFIX):
            return encrypted_text
        return KEY_RING.decrypt(base64.urlsafe_b64decode(encrypted_text[len(self.PREFIX):])).decode()
