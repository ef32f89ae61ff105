"""The cookie banner's and the dashboard's consent choices, and the newsletter tick box of checkout
and sign-up."""
from __future__ import annotations

from allauth.core import context
from django import forms

from privacy.consent.cookies import OPTIONAL_KINDS
from privacy.consent.ledger import gpc, gpc_confirm_hash, gpc_confirm_text, gpc_unconfirmed
from privacy.models import ConsentRecord

MARKETING = ConsentRecord.Purpose.MARKETING_EMAIL


class MarketingTickForm(forms.Form):
    """The optional newsletter box on a form that does something else (checkout, sign-up).

    Under Global Privacy Control a tick is not enough: the form comes back once with the second
    question (the same wording as the cookie page's, P19) and a confirmation carrying that wording's
    hash; only a form sent again with the box still ticked subscribes, and the ledger records the
    choice as made against the signal. Unticking the box goes on without marketing. Without GPC
    nothing changes. The request is the one the view hands over, else allauth's current request
    (its sign-up view builds the form without one)."""

    marketing = forms.BooleanField(required=False, label="Send me occasional emails about new products and offers")
    gpc_confirm = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._request = request
        self.gpc_question = ""

    def _current_request(self):
        return self._request or context.request

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("marketing") and gpc_unconfirmed(
                request=self._current_request(), turning_on=[MARKETING],
                confirmations=[cleaned.get("gpc_confirm") or ""]):
            self.gpc_question = gpc_confirm_text(MARKETING)
            self.data = self.data.copy()
            self.data[self.add_prefix("gpc_confirm")] = gpc_confirm_hash(MARKETING)
            self.add_error("marketing", "Please confirm: send the form again with the box ticked to subscribe "
                                        "anyway, or untick it to go on without marketing emails.")
        return cleaned

    @property
    def marketing_against_gpc(self) -> bool:
        """The subscription asked for here was confirmed against the signal."""
        return bool(self.cleaned_data.get("marketing")) and gpc(self._current_request())


class CookieChoiceForm(forms.Form):
    preferences = forms.BooleanField(required=False)
    analytics = forms.BooleanField(required=False)
    marketing = forms.BooleanField(required=False)
    action = forms.ChoiceField(choices=[("accept_all", "Accept all"), ("reject_all", "Reject all"),
                                        ("save", "Save my choices")])
    next = forms.CharField(required=False, max_length=300)

    def choices(self) -> dict[str, bool]:
        action = self.cleaned_data["action"]
        if action == "accept_all":
            return {k: True for k in OPTIONAL_KINDS}
        if action == "reject_all":
            return {k: False for k in OPTIONAL_KINDS}
        return {k: bool(self.cleaned_data.get(k)) for k in OPTIONAL_KINDS}


class ConsentSettingsForm(forms.Form):
    marketing_email = forms.BooleanField(required=False, label="Marketing emails")
    personalisation = forms.BooleanField(required=False, label="Recommendations from my browsing")
