"""The personal center's forms; the address fields are the checkout's (shop.forms)."""
from django import forms

from shop.forms import NoControlCharacters, ShippingAddressFields, phone_field


class ProfileForm(NoControlCharacters):
    name = forms.CharField(max_length=120, required=False, label="Full name")
    phone = phone_field()


class AddressForm(ShippingAddressFields):
    label = forms.CharField(max_length=40, required=False, help_text="e.g. Home, Work")
    is_default = forms.BooleanField(required=False, label="Use as my default address")
    field_order = ["label", "name", "line1", "line2", "city", "postal_code", "region", "country", "phone"]
