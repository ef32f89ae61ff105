from django import forms
from django.conf import settings

from .selectors import SORTS


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
