"""Legal holds: the Legal role places, changes and lifts them (each step in the access log through
the service); the investigation's details are masked for everyone else."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from privacy.admin.mixins import PersonalDataAdmin, _request
from privacy.models import LegalHold
from privacy.registry.hooks import hold_targets
from privacy.retention.legal_holds import (
    HoldError,
    HoldTerms,
    hold_terms_check,
    legal_hold_change,
    legal_hold_lift,
    legal_hold_place,
)
from privacy.rights.staff_actions import PersonNotFound, person_for_email

MANAGE = "privacy.manage_legalhold"


class LegalHoldAddForm(forms.ModelForm):
    person_email = forms.EmailField(required=False, help_text="For a hold on a person: their account's email.")
    order_reference = forms.CharField(required=False, max_length=20, help_text="For a hold on one order.")

    class Meta:
        model = LegalHold
        fields = ["target", "person_email", "order_reference", "kind", "reason", "legal_basis", "expires_at"]

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == LegalHold.Target.PERSON:
            try:
                user, _ = person_for_email(data.get("person_email") or "")
            except PersonNotFound as exc:
                raise forms.ValidationError(str(exc)) from None
            if user is None:
                raise forms.ValidationError("No account has that email; hold the guest's order instead.")
            data["user"] = user
        elif target == LegalHold.Target.ORDER:
            found_by = hold_targets().get(LegalHold.Target.ORDER)
            if not data.get("order_reference") or found_by is None or found_by.find(data["order_reference"]) is None:
                raise forms.ValidationError("No order has that reference.")
        return _terms_valid(data)


def _terms_valid(data: dict, hold: LegalHold | None = None) -> dict:
    if all(data.get(name) for name in ("kind", "legal_basis", "expires_at")):
        try:
            hold_terms_check(_terms(data, hold))
        except HoldError as exc:
            raise forms.ValidationError(str(exc)) from None
    return data


class LegalHoldChangeForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["kind", "legal_basis", "expires_at"]

    def clean(self):
        return _terms_valid(super().clean(), self.instance)


class LiftForm(forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why the hold ends (e.g. the claim was settled). Logged.")


def _terms(data: dict, hold: LegalHold | None = None) -> HoldTerms:
    return HoldTerms(kind=data["kind"], reason=data.get("reason", hold.reason if hold else ""),
                     legal_basis=data["legal_basis"], expires_at=data["expires_at"])


@admin.register(LegalHold)
class LegalHoldAdmin(PersonalDataAdmin):
    list_display = ["id", "target", "reference", "kind", "legal_basis", "expires_at", "state"]
    list_filter = ["kind", "target"]
    readonly_fields = ["state", "target", "reference", "user_id", "placed_at", "placed_by", "lifted_at",
                       "lifted_by", "lift_reason", "erasure_waiting", "source", "details", "lift_link"]
    job_fields = {MANAGE: {"reason"}}

    @admin.display(description="details (reason)")
    def details(self, obj) -> str:
        # Kept out of the person's own export and page, so not in the personal-data table either:
        # the Legal role reads it here for its job, everyone else a mask.
        request = _request.get()
        return self._display("reason", request, obj)

    @admin.display(description="state")
    def state(self, obj) -> str:
        if obj.lifted_at:
            return "expired" if obj.lift_reason == "expired" else "lifted"
        return "active" if obj.is_active else "expiring"

    @admin.display(description="lift")
    def lift_link(self, obj) -> str:
        if obj.lifted_at is not None:
            return "—"
        return format_html('<a class="button" href="{}">Lift this hold</a>',
                           reverse("admin:privacy_legalhold_lift", args=[obj.pk]))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = LegalHoldChangeForm if obj is not None else LegalHoldAddForm
        kwargs["fields"] = list(kwargs["form"]._meta.fields)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": LegalHoldAddForm._meta.fields})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj is not None else []

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MANAGE) and (obj is None or obj.lifted_at is None)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a legal record: retention deletes it a year after it ends

    def save_model(self, request, obj, form, change):
        # Through the service, which checks the terms and writes the access-log entry.
        try:
            if change:
                changed = legal_hold_change(hold=obj, terms=_terms(form.cleaned_data, obj), changed_by=request.user)
                obj.refresh_from_db()
                if not changed:
                    messages.info(request, "Nothing changed.")
                return
            data = form.cleaned_data
            hold = legal_hold_place(terms=_terms(data), placed_by=request.user, user=data.get("user"),
                                    order_reference=data.get("order_reference", "")
                                    if data["target"] == LegalHold.Target.ORDER else "")
        except HoldError as exc:
            messages.error(request, f"Nothing was saved: {exc}")
            raise PermissionDenied(str(exc)) from None
        obj.pk = hold.pk
        obj.refresh_from_db()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/lift/", view(self.lift_view), name="privacy_legalhold_lift"), *super().get_urls()]

    def lift_view(self, request, pk: int):
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        hold = get_object_or_404(LegalHold, pk=pk)
        form = LiftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            legal_hold_lift(hold=hold, lifted_by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, "The hold was lifted.")
            return redirect(reverse("admin:privacy_legalhold_change", args=[pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": hold, "form": form,
                   "title": f"Lift {hold}"}
        return render(request, "admin/privacy/legalhold/lift.html", context, status=400 if form.errors else 200)
