"""The privacy policy pages: the current version, archived versions, what changed, and "I have seen it"."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from config import converters  # noqa: F401  (registers the version converter)
from config.web import redirect_back
from privacy.consent.cookies import cookies_by_kind
from privacy.models import PolicyVersion
from privacy.policy import versions as policy
from privacy.processors.inventory import inventory
from privacy.retention.purge import rules_for_display


def _policy_context(version: PolicyVersion | None) -> dict:
    return {"policy": version, "body": policy.render(version.body) if version else "", "inventory": inventory(),
            "retention_rules": rules_for_display(),
            "cookie_kinds": cookies_by_kind(), "versions": PolicyVersion.objects.filter(
                published_at__isnull=False).order_by("-effective_at")}


@require_GET
def policy_page(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/policy.html", _policy_context(policy.current()))


@require_GET
def policy_version(request: HttpRequest, version: str) -> HttpResponse:
    found = get_object_or_404(PolicyVersion, version=version, published_at__isnull=False)
    return render(request, "privacy/policy.html", {**_policy_context(found), "archived": True})


@require_GET
def policy_diff(request: HttpRequest, version: str) -> HttpResponse:
    new = get_object_or_404(PolicyVersion, version=version, published_at__isnull=False)
    old = (PolicyVersion.objects.filter(published_at__isnull=False, effective_at__lt=new.effective_at)
           .order_by("-effective_at").first())
    return render(request, "privacy/policy_diff.html", {"new": new, "old": old, "diff": policy.diff_html(old, new)})


@login_required
@require_POST
def policy_acknowledge(request: HttpRequest, version: str) -> HttpResponse:
    found = get_object_or_404(PolicyVersion, version=version, published_at__isnull=False)
    policy.acknowledge(user=request.user, policy=found)
    messages.success(request, "Thank you — noted that you have seen the policy change.")
    return redirect_back(request)


urlpatterns = [
    path("privacy/", policy_page, name="policy"),
    path("privacy/versions/<version:version>/", policy_version, name="version"),
    path("privacy/versions/<version:version>/changes/", policy_diff, name="diff"),
    path("privacy/versions/<version:version>/acknowledge/", policy_acknowledge, name="acknowledge"),
]
