"""The request queue with its staff steps, and restrictions."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone

from privacy.admin.mixins import PersonalDataAdmin, ReadOnlyAdmin
from privacy.models import ErasureReceipt, PrivacyRequest, Restriction
from privacy.registry.workdays import working_days_between
from privacy.rights import subject_requests as rights
from privacy.rights.erasure import ErasureBlocked
from privacy.rights.receipts import receipt_context
from privacy.rights.staff_actions import ERASABLE_KINDS, PersonNotFound, request_erase_now


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "started_at", "lifted_at"]


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    reply = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
                            help_text="Emailed to the requester.")


class EraseForm(forms.Form):
    email = forms.EmailField(help_text="The account email, or the email used for guest orders, to erase.")
    confirm = forms.BooleanField(label="I checked the requester's identity (and, for a guardian, their authority)")


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(PersonalDataAdmin):
    """The request queue: overdue and nearly-due requests first and flagged."""

    list_display = ["id", "kind", "status", "received_at", "due_at", "clock", "acknowledgement", "deadline",
                    "working_days"]
    list_filter = ["kind", "status"]
    masked_list_fields = ("requester_email",)
    fields = ["kind", "status", "verified_by", "received_at", "due_at", "governing_rule", "acknowledge_by",
              "acknowledged_at", "answer_limit", "scheduled_for", "extended_reason", "refusal_reason", "closed_at",
              "scope", "erasure_receipt"]
    readonly_fields = ["status", "received_at", "due_at", "governing_rule", "acknowledge_by", "acknowledged_at",
                       "answer_limit", "scheduled_for", "extended_reason", "refusal_reason", "closed_at", "scope",
                       "erasure_receipt"]

    @admin.display(description="erasure receipt")
    def erasure_receipt(self, obj) -> str:
        """The same receipt the person received: counts, kinds, reasons, dates, processors' answers."""
        receipt = ErasureReceipt.objects.filter(request=obj).first() if obj is not None and obj.pk else None
        if receipt is None:
            return "—"
        return render_to_string("privacy/includes/_erasure_receipt.html", receipt_context(receipt))
    change_form_template = "admin/privacy/privacyrequest/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) + (["kind", "verified_by"] if obj else [])

    job_fields = {"privacy.handle_privacyrequest": {"requester_email", "message", "reply"}}

    @admin.display(description="deadline")
    def deadline(self, obj) -> str:
        state = rights.deadline_state(obj)
        return {"overdue": "⚠ OVERDUE", "nearly due": "⏰ nearly due"}.get(state, state)

    @admin.display(description="acknowledge by")
    def acknowledgement(self, obj) -> str:
        if obj.acknowledged_at:
            return "sent"
        if obj.acknowledge_by is None:
            return "—"
        flag = "⚠ " if rights.acknowledgement_due(obj) else ""
        return f"{flag}{obj.acknowledge_by:%d %b %Y}"

    @admin.display(description="governing rule")
    def governing_rule(self, obj) -> str:
        return rights.clock_name(obj)

    @admin.display(description="working days so far (target 15, max 30)")
    def working_days(self, obj) -> int:
        return working_days_between(obj.received_at, obj.closed_at or timezone.now())

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # staff record a request received by post or phone, e.g. from a guardian
            return [(None, {"fields": ["kind", "verified_by"]})]
        return super().get_fieldsets(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            rights.request_clock_set(case=obj)
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/extend/", view(self.reason_view), {"action": "extend"}, name="privacy_request_extend"),
                path("<int:pk>/refuse/", view(self.reason_view), {"action": "refuse"}, name="privacy_request_refuse"),
                path("<int:pk>/reply/", view(self.reply_view), name="privacy_request_reply"),
                path("<int:pk>/erase/", view(self.erase_view), name="privacy_request_erase"),
                *super().get_urls()]

    def _handled(self, request, pk):
        if not request.user.has_perm("privacy.handle_privacyrequest"):
            raise PermissionDenied
        return get_object_or_404(PrivacyRequest, pk=pk)

    def _done(self, obj):
        return redirect(reverse("admin:privacy_privacyrequest_change", args=[obj.pk]))

    def reason_view(self, request, pk, action):
        obj = self._handled(request, pk)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                (rights.request_extend if action == "extend" else rights.request_refuse)(
                    case=obj, reason=form.cleaned_data["reason"])
            except rights.RequestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, "Done; the requester was told.", messages.SUCCESS)
            return self._done(obj)
        return render(request, "admin/privacy/privacyrequest/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": f"{'Extend' if action == 'extend' else 'Refuse'} request #{obj.pk}"})

    def reply_view(self, request, pk):
        obj = self._handled(request, pk)
        form = ReplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                rights.request_answer(case=obj, reply=form.cleaned_data["reply"], by=request.user)
            except rights.RequestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, "Answered and closed; the reply was emailed.", messages.SUCCESS)
            return self._done(obj)
        return render(request, "admin/privacy/privacyrequest/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": f"Answer request #{obj.pk}"})

    def erase_view(self, request, pk):
        """Carry out an erasure now: a guardian's request for a minor, or a request received by post."""
        obj = self._handled(request, pk)
        if obj.kind not in ERASABLE_KINDS:
            raise PermissionDenied
        form = EraseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = request_erase_now(case=obj, email=form.cleaned_data["email"], by=request.user)
            except PersonNotFound as exc:
                form.add_error("email", str(exc))
            except ErasureBlocked as exc:
                self.message_user(request, f"Not erased yet: {exc}.", messages.WARNING)
                return self._done(obj)
            except rights.RequestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return self._done(obj)
            else:
                self.message_user(request, f"Erased: {sum(report.deleted.values())} records deleted, "
                                           f"{sum(report.anonymised.values())} anonymised.", messages.SUCCESS)
                return self._done(obj)
        return render(request, "admin/privacy/privacyrequest/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": f"Erase data for request #{obj.pk}"})
