from django import forms
from django.conf import settings
from django_countries import countries

from privacy.consent import MarketingTickForm, subscribe_request
from privacy.models import ConsentRecord
from privacy.policy import current_policy

from .addresses import AddressInvalid, validate_address
from .selectors import SORTS
from .services import account_confirm_adult


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True, label="Search")
    category = forms.SlugField(required=False, max_length=80)
    sort = forms.ChoiceField(required=False, choices=[(k, v[0]) for k, v in SORTS.items()])


class AddToCartForm(forms.Form):
    product = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        min_value=1, max_value=settings.SHOP_MAX_QUANTITY_PER_LINE, initial=1,
        error_messages={"max_value": "At most %(limit_value)s units per line.",
                        "min_value": "The quantity must be at least %(limit_value)s."},
    )


class CartQuantityForm(forms.Form):
    product = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        min_value=0, max_value=settings.SHOP_MAX_QUANTITY_PER_LINE,
        error_messages={"max_value": "At most %(limit_value)s units per line.",
                        "min_value": "The quantity cannot be negative."},
    )


class CartRemoveForm(forms.Form):
    product = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)


class SignupForm(MarketingTickForm):
    """allauth's sign-up, plus the one thing we must know: that the customer is an adult.
    No birth date is asked (P1, P20)."""

    adult = forms.BooleanField(
        label="I am 18 or older",
        error_messages={"required": "You must be 18 or older to open an account: we do not serve minors. "
                                    "You can still browse the shop."},
    )
    policy_version = forms.CharField(max_length=20, widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = current_policy()
        self.fields["policy_version"].initial = policy.version if policy else ""

    def signup(self, request, user) -> None:
        account_confirm_adult(user=user, policy_version=self.cleaned_data.get("policy_version", ""))
        if self.cleaned_data.get("marketing"):
            subscribe_request(email=user.email, user=user, channel=ConsentRecord.Channel.SIGNUP,
                              against_gpc=self.marketing_against_gpc)


def phone_field(**kwargs) -> forms.RegexField:
    return forms.RegexField(
        regex=r"^\+?[0-9 ()\-.]{6,30}$", max_length=32, required=False, label="Phone (optional)",
        error_messages={"invalid": "Enter a phone number with digits, spaces and an optional leading +."}, **kwargs)


class NoControlCharacters(forms.Form):
    """Names and addresses are printed on parcels: no tabs, line breaks or other control characters."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and any(ord(c) < 32 for c in value):
                self.add_error(name, "Control characters are not allowed.")
        return data


class ShippingAddressFields(NoControlCharacters):
    """The address we deliver to, the same at checkout and in the address book (P1: nothing more).
    Which of city, postcode and state a country needs, and their formats, are its own rules
    (shop.addresses.validate_address): a wrong field gets its message and nothing is saved."""

    name = forms.CharField(max_length=120, label="Full name")
    line1 = forms.CharField(max_length=160, label="Address line 1", help_text="House number and street")
    line2 = forms.CharField(max_length=160, required=False, label="Address line 2 (optional)")
    city = forms.CharField(max_length=100, required=False, label="City")
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code",
                                  help_text="Postcode or ZIP code, if your country uses one")
    region = forms.CharField(max_length=100, required=False, label="State / region",
                             help_text="If your country uses one, e.g. CA or California")
    country = forms.ChoiceField(choices=[("", "Choose a country")] + list(countries))
    phone = phone_field(help_text="Only given to the carrier, for delivery questions.")

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in ("line1", "city", "postal_code", "region", "country")):
            return data
        try:
            clean = validate_address(line1=data.get("line1", ""), line2=data.get("line2", ""),
                                     city=data.get("city", ""), postal_code=data.get("postal_code", ""),
                                     region=data.get("region", ""), country=data.get("country", ""))
        except AddressInvalid as exc:
            for name, message in exc.errors.items():
                self.add_error(name, message)
            return data
        data.update(line1=clean.line1, line2=clean.line2, city=clean.city, postal_code=clean.postal_code,
                    region=clean.region, country=clean.country)
        return data
