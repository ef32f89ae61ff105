"""Forms a person uses to exercise a right: the privacy contact, a guest's copy of their data,
deleting the account."""
from __future__ import annotations

from allauth.mfa.models import Authenticator
from django import forms
from django_countries import countries

from privacy.protection.emailaddr import EmailAddressField


class ContactForm(forms.Form):
    KINDS = [("question", "A question about my data"), ("complaint", "A complaint"),
             ("rectification", "Correct data I cannot change myself"), ("access", "A copy of my data"),
             ("erasure", "Delete my data"), ("objection", "Object to a use of my data"),
             ("restriction", "Restrict the use of my data")]
    kind = forms.ChoiceField(choices=KINDS, label="What is it about?")
    email = EmailAddressField(max_length=254, required=False, help_text="Where we send the answer.")
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    jurisdiction = forms.ChoiceField(
        label="Where do you live? (country or region)", required=False,
        help_text="Sets the legal deadline we answer by (the GDPR in Europe and the UK, the CCPA in "
                  "California); left empty, we use the country of your saved address.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["jurisdiction"].choices = jurisdiction_choices()
        if user is not None:
            del self.fields["email"]
        else:
            self.fields["email"].required = True


def jurisdiction_choices() -> list[tuple[str, str]]:
    """Every country, with California listed on its own right after the United States."""
    found = [("", "Not saying")]
    for code, name in countries:
        found.append((code, name))
        if code == "US":
            found.append(("US-CA", "United States — California"))
    return found


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
        # Authenticator.wrap() is allauth's public way to check a code, whatever the type's internals.
        totp = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.TOTP).first()
        if totp is not None and not totp.wrap().validate_code((data.get("code") or "").strip()):
            raise forms.ValidationError("Enter the current code from your authenticator app.")
        return data
