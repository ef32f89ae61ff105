from django import forms
from django_countries import countries


class CheckoutForm(forms.Form):
    """Everything we need to deliver an order, and nothing else (P1): no birth date, no gender,
    no account required. The phone is optional (a carrier may call about delivery)."""

    email = forms.EmailField(max_length=254, help_text="For your order confirmation and shipping updates.")
    name = forms.CharField(max_length=120, label="Full name")
    line1 = forms.CharField(max_length=160, label="Address line 1")
    line2 = forms.CharField(max_length=160, required=False, label="Address line 2")
    city = forms.CharField(max_length=100)
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    region = forms.CharField(max_length=100, required=False, label="State / region")
    country = forms.ChoiceField(choices=[("", "Choose a country")] + list(countries))
    phone = forms.RegexField(
        regex=r"^\+?[0-9 ()\-.]{6,30}$", max_length=32, required=False, label="Phone (optional)",
        error_messages={"invalid": "Enter a phone number with digits, spaces and an optional leading +."},
        help_text="Only given to the carrier, for delivery questions.",
    )
    marketing = forms.BooleanField(required=False, label="Send me occasional emails about new products and offers")
    policy_version = forms.CharField(max_length=20, widget=forms.HiddenInput, required=False)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and any(ord(c) < 32 for c in value):
                self.add_error(name, "Control characters are not allowed.")
        return data


class ShipOrderForm(forms.Form):
    carrier = forms.CharField(max_length=60)
    tracking_number = forms.CharField(max_length=60)
