from django import forms

from privacy.consent.cookies import OPTIONAL_KINDS
from privacy.protection.emailaddr import EmailAddressField


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


class RevealReasonForm(forms.Form):
    reason = forms.CharField(min_length=10, max_length=300)


class ContactForm(forms.Form):
    KINDS = [("question", "A question about my data"), ("complaint", "A complaint"),
             ("rectification", "Correct data I cannot change myself"), ("access", "A copy of my data"),
             ("erasure", "Delete my data"), ("objection", "Object to a use of my data"),
             ("restriction", "Restrict the use of my data")]
    kind = forms.ChoiceField(choices=KINDS, label="What is it about?")
    email = EmailAddressField(max_length=254, required=False, help_text="Where we send the answer.")
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None:
            del self.fields["email"]
        else:
            self.fields["email"].required = True


class GuestExportForm(forms.Form):
    email = EmailAddressField(max_length=254, help_text="The email you ordered with. We send a confirmation link.")


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, max_length=200, strip=False)  # exactly as typed
    code = forms.CharField(max_length=12, required=False, label="Authenticator code",
                           help_text="Only if you use two-factor authentication.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if not self.user.check_password(data.get("password", "")):
            raise forms.ValidationError("That password is not right; nothing was changed.")
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        totp = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.TOTP).first()
        if totp is not None and not TOTP(totp).validate_code((data.get("code") or "").strip()):
            raise forms.ValidationError("Enter the current code from your authenticator app.")
        return data
