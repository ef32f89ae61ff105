"""allauth adapters: how much of the network we keep, and how MFA secrets are stored."""
from __future__ import annotations

import base64

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter

from privacy.crypto import KEY_RING
from privacy.network import truncate_ip


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        from .validators import deliverable_email

        deliverable_email(email)
        return super().clean_email(email)

    def get_client_ip(self, request) -> str:
        # Kept for security only (rate limits, session list), truncated: /24 for IPv4, /48 for IPv6 (P28).
        return truncate_ip(super().get_client_ip(request))


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted with the shop's key ring (P10)."""

    PREFIX = "enc1:"

    def encrypt(self, text: str) -> str:
        return self.PREFIX + base64.urlsafe_b64encode(KEY_RING.encrypt(text.encode())).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(self.PREFIX):
            return encrypted_text
        return KEY_RING.decrypt(base64.urlsafe_b64decode(encrypted_text[len(self.PREFIX):])).decode()
