"""allauth's forms that carry the typed address on, made to carry the canonical one
(privacy.protection.emailaddr) instead. (Kept apart from shop.forms, which allauth imports while building
its own forms.)
"""
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm

from privacy.protection import canonical_email


class LoginForm(AllauthLoginForm):
    """allauth takes the typed address on through the sign-in: to check it is verified and,
    when the account has no such EmailAddress row, to add one and mail it a link, which would
    attach a look-alike spelling to the real owner's account."""

    def clean_login(self) -> str:
        return canonical_email(super().clean_login())


class ResetPasswordForm(AllauthResetPasswordForm):
    """allauth finds the account by the canonical form (our adapter's clean_email) but mails
    the reset link to the address as typed: it must go to the address the account holds."""

    def clean_email(self) -> str:
        super().clean_email()
        return canonical_email(self.cleaned_data["email"])
