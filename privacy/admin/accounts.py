"""allauth's models that hold personal data, masked in the admin like ours."""
from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin

from privacy.admin.mixins import PersonalDataAdmin, ReadOnlyAdmin

for _model in (EmailAddress, Authenticator, UserSession):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(EmailAddress)
class EmailAddressAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["id", "user_id", "verified", "primary"]
    masked_list_fields = ("email",)
    fields = ["verified", "primary"]
    readonly_fields = fields


@admin.register(UserSession)
class UserSessionAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["id", "user_id", "created_at", "last_seen_at"]
    masked_list_fields = ("ip", "user_agent")
    fields = ["created_at", "last_seen_at"]
    readonly_fields = fields
