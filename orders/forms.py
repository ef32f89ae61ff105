from django import forms

from privacy.consent import MarketingTickForm
from privacy.protection import EmailAddressField
from shop.forms import ShippingAddressFields


class CheckoutForm(ShippingAddressFields, MarketingTickForm):
    """Everything we need to deliver an order, and nothing else (P1): no birth date, no gender,
    no account required. The phone is optional (a carrier may call about delivery)."""

    email = EmailAddressField(max_length=254, help_text="For your order confirmation and shipping updates.")
    policy_version = forms.CharField(max_length=20, widget=forms.HiddenInput, required=False)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)


class ShipOrderForm(forms.Form):
    carrier = forms.CharField(max_length=60)
    tracking_number = forms.CharField(max_length=60)


class ReturnForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="A sentence is enough: wrong size, damaged, not as described…")

    def __init__(self, *args, lines=(), available=None, **kwargs):
        super().__init__(*args, **kwargs)
        available = available or {}
        self.line_fields = []
        for line in lines:
            if line.pk in available:
                name = f"line_{line.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    label=f"{line.product_name} (${line.unit_price})", coerce=int, required=False, initial=0,
                    choices=[(n, str(n)) for n in range(available[line.pk] + 1)])
                self.line_fields.append(name)

    def quantities(self) -> dict[int, int]:
        return {int(n.split("_")[1]): self.cleaned_data.get(n) or 0 for n in self.line_fields}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,"
                                                                       "application/pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class SupportForm(forms.Form):
    email = EmailAddressField(max_length=254, required=False, help_text="Where we send our answer.")
    order_reference = forms.CharField(max_length=12, required=False, label="Order reference (optional)")
    subject = forms.CharField(max_length=160)
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label="Attachments (optional)",
                              help_text="Up to 3 images (PNG, JPEG, GIF, WebP) or PDF files, 5 MB each.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            del self.fields["email"]
        else:
            self.fields["email"].required = True


class ReplyForm(forms.Form):
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label="Attachments (optional)")
