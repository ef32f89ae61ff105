"""Staff see personal data masked, everywhere in the admin, and every look is logged.

`PersonalDataAdmin` reads the registry: each personal field is shown through its mask in
lists, detail pages and search results; the real value appears only (a) on the explicit
"Reveal" page, for holders of privacy.reveal_personal_data, after they give a reason, or
(b) where a ModelAdmin's `job_fields` say a role needs it for its job (fulfilment staff
shipping an order), held through the role itself: a superuser sees masks like everyone.
Every list, search, view, reveal, change and deletion writes an access-log entry.
"""
from __future__ import annotations

import contextvars

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from privacy.audit import log as audit
from privacy.models import AccessLogEntry, Restriction
from privacy.protection import roles
from privacy.protection.masking import mask_declared
from privacy.registry import declarations as registry

_request: contextvars.ContextVar = contextvars.ContextVar("admin_request", default=None)


class RevealForm(forms.Form):
    reason = forms.CharField(
        min_length=10, max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need to see the full values (e.g. the ticket you are working on). Logged.",
        error_messages={"required": "A reason is required to reveal personal data.",
                        "min_length": "Give a real reason (at least %(limit_value)d characters)."},
    )


def _subject_ids(entry: registry.Entry, objs) -> list[int]:
    if entry.subject == "self":
        return [o.pk for o in objs]
    if entry.subject == "user":
        return [getattr(o, "user_id", None) for o in objs]
    return []


class PersonalDataAdmin(admin.ModelAdmin):
    masked_list_fields: tuple[str, ...] = ()  # personal fields to show (masked) in the list

    # --- what is personal -----------------------------------------------------------
    @property
    def entry(self) -> registry.Entry:
        return registry.entry_for(self.model)

    def personal_fields(self) -> list[str]:
        return list(self.entry.fields) if self.entry else []

    # {permission: fields} a role needs in full for its job, shown without a reveal. Held through
    # the role only (roles.role_perms): superuser status grants every permission but not these.
    job_fields: dict[str, set[str]] = {}

    def job_unmasked(self, request) -> set[str]:
        held = roles.role_perms(request.user) if request is not None else set()
        return {f for perm, fields in self.job_fields.items() if perm in held for f in fields}

    def unmasked_fields(self, request, obj) -> set[str]:
        """Fields this user may see in full on this record for their job; an override may narrow
        this by the record's state (fulfilment: orders awaiting shipment), never widen it."""
        return self.job_unmasked(request)

    def shown_in_full(self, request, obj) -> set[str]:
        return self.unmasked_fields(request, obj) & self.job_unmasked(request)

    def _display(self, name: str, request, obj) -> str:
        value = getattr(obj, name)
        if name in self.shown_in_full(request, obj):
            return "" if value is None else str(value)
        return mask_declared(self.entry.fields[name], value)

    def __getattr__(self, attr: str):
        # masked_<field> list columns, resolved lazily: admin classes load before the registry.
        if attr.startswith("masked_"):
            name = attr.removeprefix("masked_")
            entry = registry.entry_for(self.model)
            if entry is not None and name in entry.fields:
                def column(obj):
                    return mask_declared(entry.fields[name], getattr(obj, name))

                column.short_description = self.model._meta.get_field(name).verbose_name
                return column
        raise AttributeError(attr)

    # --- lists ------------------------------------------------------------------------
    def get_list_display(self, request):
        base = list(super().get_list_display(request))
        return base + [f"masked_{n}" for n in self.masked_list_fields]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if cl is not None and self.entry:
            objs = list(cl.result_list)
            audit.audit_log(
                actor=request.user, action=AccessLogEntry.Action.SEARCH if cl.query else AccessLogEntry.Action.LIST, model_label=self.entry.label,
                object_ids=[o.pk for o in objs], fields=[f"{n} (masked)" for n in self.masked_list_fields],
                subject_user_ids=_subject_ids(self.entry, objs))
        return response

    def get_search_fields(self, request):
        # The admin's autocomplete endpoint answers for any foreign key to this model, whether a
        # form uses it or not, and logs nothing: it would let staff look people up by email
        # unlogged. Searching personal records happens on the (logged) list page only; with no
        # search fields the endpoint answers 404 for these models.
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name == f"{self.admin_site.name}:autocomplete":
            return ()
        return super().get_search_fields(request)

    # --- detail pages ---------------------------------------------------------------
    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.entry:
            return fieldsets
        personal = set(self.personal_fields())
        stripped = [(title, {**opts, "fields": [f for f in opts["fields"] if f not in personal]})
                    for title, opts in fieldsets]
        return [fs for fs in stripped if fs[1]["fields"]] + [("Personal data", {"fields": ["personal_data"]})]

    def get_readonly_fields(self, request, obj=None):
        base = list(super().get_readonly_fields(request, obj))
        return base + ["personal_data"] if obj is not None and self.entry else base

    def get_exclude(self, request, obj=None):
        base = list(super().get_exclude(request, obj) or [])
        return base + self.personal_fields() if obj is not None else base or None

    @admin.display(description="Personal data")
    def personal_data(self, obj):
        request = _request.get()
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>",
            ((self.model._meta.get_field(n).verbose_name, self._display(n, request, obj))
             for n, p in self.entry.fields.items() if p.export),
        )
        link = ""
        if request is not None and request.user.has_perm("privacy.reveal_personal_data"):
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_reveal", args=[obj.pk])
            link = format_html('<p><a class="button" href="{}">Reveal (reason required, logged)</a></p>', url)
        return format_html('<table class="personal-data">{}</table>{}', rows, link)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "GET" and self.entry:
            self._warn_if_restricted(request, object_id)
        token = _request.set(request)
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # the personal-data table needs the request while rendering
        finally:
            _request.reset(token)
        obj = getattr(response, "context_data", {}).get("original") if hasattr(response, "context_data") else None
        if obj is not None and request.method == "GET" and self.entry:
            shown = self.shown_in_full(request, obj)
            audit.audit_log(
                actor=request.user, action=AccessLogEntry.Action.VIEW, model_label=self.entry.label, object_ids=[obj.pk],
                fields=[n if n in shown else f"{n} (masked)" for n in self.entry.fields],
                subject_user_ids=_subject_ids(self.entry, [obj]))
        return response

    def _warn_if_restricted(self, request, object_id) -> None:
        obj = self.get_object(request, object_id)
        ids = [i for i in _subject_ids(self.entry, [obj]) if i] if obj is not None else []
        if ids and Restriction.objects.filter(user_id__in=ids, lifted_at__isnull=True).exists():
            messages.warning(request, "This customer has restricted the use of their data: use it only to "
                                      "complete their existing orders and requests — no marketing, no analysis.")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and self.entry:
            audit.audit_log(actor=request.user, action=AccessLogEntry.Action.CHANGE, model_label=self.entry.label,
                            object_ids=[obj.pk], fields=form.changed_data,
                            subject_user_ids=_subject_ids(self.entry, [obj]))

    def delete_model(self, request, obj):
        if self.entry:
            audit.audit_log(actor=request.user, action=AccessLogEntry.Action.DELETE, model_label=self.entry.label,
                            object_ids=[obj.pk], fields=list(self.entry.fields),
                            subject_user_ids=_subject_ids(self.entry, [obj]))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if self.entry:
            objs = list(queryset)
            audit.audit_log(actor=request.user, action=AccessLogEntry.Action.DELETE, model_label=self.entry.label,
                            object_ids=[o.pk for o in objs], fields=list(self.entry.fields),
                            subject_user_ids=_subject_ids(self.entry, objs))
        super().delete_queryset(request, queryset)

    # --- reveal -----------------------------------------------------------------------
    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_reveal"
        return [path("<path:object_id>/reveal/", self.admin_site.admin_view(self._reveal_valid_id), name=name),
                *super().get_urls()]

    def _reveal_valid_id(self, request, object_id):
        # An id the primary key cannot hold ("abc", NUL, 10,000 digits) is a 404, not a failed query;
        # so is one that is not how the id is written ("\u0661" or "01" for 1: int() accepts both).
        raw = unquote(object_id)
        try:
            value = self.opts.pk.to_python(raw)
        except (ValidationError, ValueError):
            raise Http404 from None
        if str(value) != raw:
            raise Http404
        return self.reveal_view(request, value)

    def reveal_view(self, request, object_id):
        if not request.user.has_perm("privacy.reveal_personal_data"):
            raise PermissionDenied
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = RevealForm(request.POST or None)
        values = None
        if request.method == "POST":
            if form.is_valid():
                fields = [n for n, p in self.entry.fields.items() if p.export]
                audit.audit_log(actor=request.user, action=AccessLogEntry.Action.REVEAL, model_label=self.entry.label,
                                object_ids=[obj.pk], fields=fields, reason=form.cleaned_data["reason"],
                                subject_user_ids=_subject_ids(self.entry, [obj]))
                values = [(self.model._meta.get_field(n).verbose_name, getattr(obj, n)) for n in fields]
            else:
                messages.error(request, "Nothing was revealed: a reason is required.")
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": obj, "form": form,
                   "values": values, "title": f"Reveal personal data of {obj}"}
        return render(request, "admin/privacy/reveal.html", context, status=400 if form.errors else 200)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits or deletes through the app."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
