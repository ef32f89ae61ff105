"""Privacy policy versions: drafted, previewed and published with their notice period."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from privacy.models import PolicyVersion
from privacy.policy import versions as policy_service


class PublishForm(forms.Form):
    effective_at = forms.DateTimeField(
        help_text="At least 7 working days from now. Until then the current version stays in force and every "
                  "page announces the change.", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "material", "published_at", "effective_at", "notified_at"]
    readonly_fields = ["published_at", "effective_at", "notified_at", "created_at"]
    change_form_template = "admin/privacy/policyversion/change_form.html"

    def has_change_permission(self, request, obj=None) -> bool:
        # Published versions are history: never edited, only superseded.
        return super().has_change_permission(request, obj) and (obj is None or obj.published_at is None)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.published_at is None)

    def get_urls(self):
        return [path("<int:pk>/publish/", self.admin_site.admin_view(self.publish_view),
                     name="privacy_policyversion_publish"), *super().get_urls()]

    def publish_view(self, request, pk: int):
        version = get_object_or_404(PolicyVersion, pk=pk)
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        form = PublishForm(request.POST or None, initial={"effective_at": policy_service.earliest_effective()})
        if request.method == "POST" and form.is_valid():
            try:
                policy_service.publish(version=version, effective_at=form.cleaned_data["effective_at"])
            except policy_service.PolicyError as exc:
                form.add_error("effective_at", str(exc))
            else:
                self.message_user(request, f"Version {version.version} is published and takes effect on "
                                           f"{form.cleaned_data['effective_at']:%d %B %Y}.", messages.SUCCESS)
                return redirect(reverse("admin:privacy_policyversion_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": version, "form": form,
                   "title": f"Publish privacy policy {version.version}",
                   "preview": policy_service.render(version.body)}
        return render(request, "admin/privacy/policyversion/publish.html", context, status=400 if form.errors else 200)
