"""The consent ledger and marketing subscribers, read-only and masked."""
from __future__ import annotations

from django.contrib import admin

from privacy.admin.mixins import PersonalDataAdmin, ReadOnlyAdmin
from privacy.models import ConsentRecord, MarketingSubscriber


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "purpose", "granted", "against_gpc", "channel", "user_id", "text_hash"]
    list_filter = ["purpose", "granted", "against_gpc", "channel"]
    fields = ["at", "purpose", "granted", "against_gpc", "channel", "user", "text_hash"]
    readonly_fields = fields


@admin.register(MarketingSubscriber)
class MarketingSubscriberAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["id", "requested_at", "confirmed_at", "unsubscribed_at"]
    masked_list_fields = ("email",)
    fields = ["requested_at", "confirmed_at", "unsubscribed_at"]
    readonly_fields = fields
