"""The cookie banner's and the dashboard's consent choices."""
from __future__ import annotations

from django import forms

from privacy.consent.cookies import OPTIONAL_KINDS


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
