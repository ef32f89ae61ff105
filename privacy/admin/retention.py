"""Runs of the retention purge and what each postponed."""
from __future__ import annotations

from django.contrib import admin

from privacy.admin.mixins import ReadOnlyAdmin
from privacy.models import PurgePostponement, PurgeRun


class PostponementInline(admin.TabularInline):
    model = PurgePostponement
    extra = 0
    fields = ["rule", "model_label", "object_id", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "dry_run", "status", "seconds", "summary", "errors"]
    list_filter = ["status", "dry_run"]
    fields = ["started_at", "finished_at", "dry_run", "status", "seconds", "counts", "errors"]
    readonly_fields = fields
    inlines = [PostponementInline]

    @admin.display(description="changed / postponed")
    def summary(self, obj) -> str:
        changed = sum(r.get("count", 0) for r in obj.counts.values())
        held = sum(sum(r.get("postponed", {}).values()) for r in obj.counts.values())
        return f"{changed} / {held}"
