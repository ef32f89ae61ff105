"""Disclosures to processors and the proof that they were told to delete."""
from __future__ import annotations

from django.contrib import admin

from privacy.admin.mixins import ReadOnlyAdmin
from privacy.models import Disclosure, ProcessorDeletion


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ["at", "processor", "purpose", "country", "safeguard", "reference"]
    list_filter = ["processor", "country"]
    fields = ["at", "processor", "purpose", "fields", "country", "safeguard", "subject_user", "reference"]
    readonly_fields = fields


@admin.register(ProcessorDeletion)
class ProcessorDeletionAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "processor", "reference", "outcome"]
