"""Breach incidents and their steps: affected people, the regulator, the notification."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse

from privacy.incidents import services as incident_service
from privacy.models import Incident
from privacy.registry.taxonomy import DataCategory
from privacy.tasks import incident_notify


class IncidentForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(choices=DataCategory.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Incident
        fields = ["title", "detected_at", "description", "categories", "severity", "remedial_steps", "advice"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ["title", "detected_at", "severity", "clock", "affected_count", "users_notified_at"]
    readonly_fields = ["regulator_notified_at", "users_notified_at", "clock", "affected_count"]
    change_form_template = "admin/privacy/incident/change_form.html"

    @admin.display(description="72-hour clock")
    def clock(self, obj) -> str:
        return incident_service.clock(obj)

    @admin.display(description="affected people")
    def affected_count(self, obj) -> int:
        return obj.affected.count()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/step/<str:step>/", view(self.step_view), name="privacy_incident_step"),
                *super().get_urls()]

    def step_view(self, request, pk: int, step: str):
        if request.method != "POST" or not request.user.has_perm("privacy.change_incident"):
            raise PermissionDenied
        incident = get_object_or_404(Incident, pk=pk)
        if step == "select":
            count = incident_service.incident_select_affected(incident=incident)
            self.message_user(request, f"{count} affected people found from the registry.", messages.SUCCESS)
        elif step == "regulator":
            incident_service.incident_record_regulator_notified(incident=incident)
            self.message_user(request, "Regulator notification recorded.", messages.SUCCESS)
        elif step == "notify":
            incident_notify.delay(incident.pk)
            self.message_user(request, "Affected people are being emailed.", messages.SUCCESS)
        return redirect(reverse("admin:privacy_incident_change", args=[pk]))
