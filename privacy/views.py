from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import registry, selectors
from .inventory import inventory
from .models import AccessLogEntry, Disclosure


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/policy.html", {"inventory": inventory()})


def _value(entry: registry.Entry, obj, name: str) -> str:
    field = entry.model._meta.get_field(name)
    if getattr(field, "choices", None):
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, name)
    return "" if value in (None, "") else str(value)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Your data: what we hold about you, by category, with purpose, basis and retention —
    generated from the registry, with the values decrypted for you alone."""
    sections = []
    for found in selectors.subject_records(user=request.user):
        entry = found.entry
        fields = [n for n, p in entry.fields.items() if p.export]
        sections.append({
            "name": entry.verbose_name, "description": entry.description, "purpose": entry.purpose.label,
            "legal_basis": entry.legal_basis.label, "categories": [c.label for c in entry.categories()],
            "retention": [f"{r.description} ({r.period.days} days)" for r in entry.retention],
            "columns": [entry.model._meta.get_field(n).verbose_name for n in fields],
            "rows": [[_value(entry, obj, n) for n in fields] for obj in found.rows[:50]],
            "count": len(found.rows),
        })
    accesses = AccessLogEntry.objects.filter(subjects__user_id=request.user.pk).exclude(actor=request.user)
    return render(request, "privacy/dashboard.html", {
        "sections": sections, "section": "privacy",
        "disclosures": Disclosure.objects.filter(subject_user=request.user)[:50],
        "accesses": accesses.order_by("-at")[:50],
    })
