from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path

from .inventory import inventory
from .models import AccessLogEntry, Disclosure


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits or deletes through the app."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "actor_id_snapshot", "actor_role", "action", "model_label", "short_ids", "request_id"]
    list_filter = ["action", "model_label", "actor_role"]
    date_hierarchy = "at"
    fields = ["at", "actor_id_snapshot", "actor_role", "action", "model_label", "object_ids", "fields",
              "subject_user_ids", "reason", "request_id", "prev_hash", "hash"]
    readonly_fields = fields
    list_per_page = 100

    @admin.display(description="records")
    def short_ids(self, obj) -> str:
        ids = [str(i) for i in obj.object_ids]
        return ", ".join(ids[:5]) + (f" (+{len(ids) - 5})" if len(ids) > 5 else "")

    def get_urls(self):
        return [path("record-of-processing/", self.admin_site.admin_view(self.record_view),
                     name="privacy_record_of_processing"), *super().get_urls()]

    def record_view(self, request):
        if not request.user.has_perm("privacy.view_accesslogentry"):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Record of processing",
                   "inventory": inventory(), "opts": self.opts}
        return render(request, "admin/privacy/record_of_processing.html", context)


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ["at", "processor", "purpose", "country", "safeguard", "reference"]
    list_filter = ["processor", "country"]
    fields = ["at", "processor", "purpose", "fields", "country", "safeguard", "subject_user", "reference"]
    readonly_fields = fields


from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.shortcuts import get_object_or_404, redirect  # noqa: E402
from django.urls import reverse  # noqa: E402

from . import policy as policy_service  # noqa: E402
from .admin_mixins import PersonalDataAdmin  # noqa: E402
from .models import ConsentRecord, MarketingSubscriber, PolicyVersion, Restriction  # noqa: E402


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


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "purpose", "granted", "channel", "user_id", "text_hash"]
    list_filter = ["purpose", "granted", "channel"]
    fields = ["at", "purpose", "granted", "channel", "user", "text_hash"]
    readonly_fields = fields


@admin.register(MarketingSubscriber)
class MarketingSubscriberAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["id", "requested_at", "confirmed_at", "unsubscribed_at"]
    masked_list_fields = ("email",)
    fields = ["requested_at", "confirmed_at", "unsubscribed_at"]
    readonly_fields = fields


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "started_at", "lifted_at"]
