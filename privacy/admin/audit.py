"""The access log, read-only, with the record of processing beside it."""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path

from privacy.admin.mixins import ReadOnlyAdmin
from privacy.models import AccessLogEntry
from privacy.processors.inventory import inventory


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
