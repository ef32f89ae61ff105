from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from privacy.audit import log as audit
from privacy.processors.inventory import inventory
from privacy.models import AccessLogEntry, Disclosure


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

from privacy.policy import versions as policy_service  # noqa: E402
from privacy.admin.mixins import PersonalDataAdmin  # noqa: E402
from privacy.models import ConsentRecord, MarketingSubscriber, PolicyVersion, Restriction  # noqa: E402


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


from privacy.models import PrivacyRequest, ProcessorDeletion  # noqa: E402
from privacy.rights import subject_requests as rights  # noqa: E402


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

    list_display = ["id", "kind", "status", "received_at", "due_at", "deadline", "working_days"]
    list_filter = ["kind", "status"]
    masked_list_fields = ("requester_email",)
    fields = ["kind", "status", "verified_by", "received_at", "due_at", "scheduled_for", "extended_reason",
              "refusal_reason", "closed_at"]
    readonly_fields = ["status", "received_at", "due_at", "scheduled_for", "extended_reason", "refusal_reason",
                       "closed_at"]
    change_form_template = "admin/privacy/privacyrequest/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) + (["kind", "verified_by"] if obj else [])

    job_fields = {"privacy.handle_privacyrequest": {"requester_email", "message", "reply"}}

    @admin.display(description="deadline")
    def deadline(self, obj) -> str:
        state = rights.deadline_state(obj)
        return {"overdue": "⚠ OVERDUE", "nearly due": "⏰ nearly due"}.get(state, state)

    @admin.display(description="working days so far (target 15, max 30)")
    def working_days(self, obj) -> int:
        return rights.working_days_between(obj.received_at, obj.closed_at or timezone.now())

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # staff record a request received by post or phone, e.g. from a guardian
            return [(None, {"fields": ["kind", "verified_by"]})]
        return super().get_fieldsets(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.due_at = obj.received_at + timedelta(days=settings.PRIVACY_REQUEST_DAYS)
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
                    request=obj, reason=form.cleaned_data["reason"])
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
            rights.request_complete(request=obj, reply=form.cleaned_data["reply"])
            audit.audit_log(actor=request.user, action=audit.A.CHANGE, model_label="privacy.PrivacyRequest",
                            object_ids=[obj.pk], fields=["reply", "status"], subject_user_ids=[obj.user_id])
            self.message_user(request, "Answered and closed; the reply was emailed.", messages.SUCCESS)
            return self._done(obj)
        return render(request, "admin/privacy/privacyrequest/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": f"Answer request #{obj.pk}"})

    def erase_view(self, request, pk):
        """Carry out an erasure now: a guardian's request for a minor, or a request received by post."""
        from django.core.exceptions import ValidationError

        from privacy.protection.emailaddr import AmbiguousEmail, account_for_email, canonical_email
        from privacy.rights.erasure import ErasureBlocked, erase_subject

        obj = self._handled(request, pk)
        if obj.kind not in (PrivacyRequest.Kind.ERASURE, PrivacyRequest.Kind.GUARDIAN):
            raise PermissionDenied
        form = EraseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            # The person is found the one way every lookup finds them; two candidates refuse.
            try:
                email = canonical_email(form.cleaned_data["email"])
                user = account_for_email(email)
            except ValidationError as exc:
                form.add_error("email", exc)
            except AmbiguousEmail as exc:
                form.add_error("email", str(exc))
            else:
                try:
                    report = erase_subject(user=user, email="" if user else email, requested_by=request.user,
                                           force=obj.kind == PrivacyRequest.Kind.GUARDIAN)
                except ErasureBlocked as exc:
                    self.message_user(request, f"Not erased yet: {exc}.", messages.WARNING)
                    return self._done(obj)
                rights.request_complete(request=obj, reply="The data was erased as you asked.")
                self.message_user(request, f"Erased: {sum(report.deleted.values())} records deleted, "
                                           f"{sum(report.anonymised.values())} anonymised.", messages.SUCCESS)
                return self._done(obj)
        return render(request, "admin/privacy/privacyrequest/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
            "title": f"Erase data for request #{obj.pk}"})


@admin.register(ProcessorDeletion)
class ProcessorDeletionAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "processor", "reference", "outcome"]


from privacy.models import PurgePostponement, PurgeRun  # noqa: E402


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


from privacy.models import AffectedPerson, Incident  # noqa: E402
from privacy.incidents import services as incident_service  # noqa: E402
from privacy.registry.declarations import Category as DataCategory  # noqa: E402


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
            Incident.objects.filter(pk=pk, regulator_notified_at__isnull=True).update(regulator_notified_at=timezone.now())
            self.message_user(request, "Regulator notification recorded.", messages.SUCCESS)
        elif step == "notify":
            from privacy.tasks import incident_notify

            incident_notify.delay(incident.pk)
            self.message_user(request, "Affected people are being emailed.", messages.SUCCESS)
        return redirect(reverse("admin:privacy_incident_change", args=[pk]))


# --- third-party models holding personal data: masked like ours ----------------------------

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.usersessions.models import UserSession  # noqa: E402

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
