from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import consent, marketing, policy, registry, selectors
from .cookies import cookies_by_kind, cookie_list_version
from .forms import ConsentSettingsForm, CookieChoiceForm
from .inventory import inventory
from .models import AccessLogEntry, ConsentRecord, Disclosure, MarketingSubscriber, PolicyVersion

C = ConsentRecord.Channel
P = ConsentRecord.Purpose


def _policy_context(version: PolicyVersion | None) -> dict:
    return {"policy": version, "body": policy.render(version.body) if version else "", "inventory": inventory(),
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
    return _back(request)


def _back(request: HttpRequest, default: str = "/") -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


@require_http_methods(["GET", "POST"])
def cookie_settings(request: HttpRequest) -> HttpResponse:
    """The banner's buttons post here; "Choose" and the footer link open it. Works without JS."""
    if request.method == "POST":
        form = CookieChoiceForm(request.POST)
        if form.is_valid():
            choice = consent.cookies_choose(request=request, choices=form.choices(), channel=C.BANNER
                                            if request.POST.get("from") == "banner" else C.SETTINGS)
            response = _back(request)
            consent.set_choice_cookie(response, choice, secure=request.is_secure())
            if not choice.choices.get("preferences"):
                response.delete_cookie("prefs_sort")
            if not choice.choices.get("marketing"):
                response.delete_cookie("mkt_campaign")
            messages.success(request, "Your cookie choices were saved.")
            return response
        messages.error(request, "Please choose one of the buttons.")
    choice = consent.cookie_choice(request)
    current = choice.choices if choice and choice.current else {}
    kinds = [(kind, label, text, cookies, bool(current.get(kind))) for kind, label, text, cookies in cookies_by_kind()]
    return render(request, "privacy/cookies.html", {
        "kinds": kinds, "next": request.GET.get("next", "/"), "list_version": cookie_list_version(),
    })


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
        "consent_form": ConsentSettingsForm(initial=_consent_initial(request.user)),
        "consents": ConsentRecord.objects.filter(user=request.user).order_by("-at")[:50],
        "disclosures": Disclosure.objects.filter(subject_user=request.user)[:50],
        "accesses": accesses.order_by("-at")[:50],
    })


def _consent_initial(user) -> dict:
    subscriber = MarketingSubscriber.objects.filter(user=user).first()
    return {"marketing_email": bool(subscriber and (subscriber.active or subscriber.confirmed_at is None)
                                    and subscriber.unsubscribed_at is None),
            "personalisation": consent.ledger_state(purpose=P.PERSONALISATION, user=user)}


def _value(entry: registry.Entry, obj, name: str) -> str:
    field = entry.model._meta.get_field(name)
    if getattr(field, "choices", None):
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, name)
    return "" if value in (None, "") else str(value)


@login_required
@require_POST
def consent_update(request: HttpRequest) -> HttpResponse:
    """Grant or withdraw marketing email and personalisation; takes effect at once."""
    from shop.personalisation import personalisation_set

    form = ConsentSettingsForm(request.POST)
    if not form.is_valid():
        raise Http404
    user, before = request.user, _consent_initial(request.user)
    wants = form.cleaned_data
    if wants["personalisation"] != before["personalisation"]:
        personalisation_set(user=user, enabled=wants["personalisation"], channel=C.DASHBOARD)
    if wants["marketing_email"] and not before["marketing_email"]:
        marketing.subscribe_request(email=user.email, user=user, channel=C.DASHBOARD)
        messages.info(request, "Check your inbox: confirm the subscription with the link we sent.")
    elif not wants["marketing_email"] and before["marketing_email"]:
        subscriber = MarketingSubscriber.objects.get(user=user)
        marketing.unsubscribe(subscriber=subscriber, channel=C.DASHBOARD)
    messages.success(request, "Your choices were saved.")
    return redirect("privacy:dashboard")


@require_GET
def marketing_confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = marketing.subscribe_confirm(token=token)
    if subscriber is None:
        raise Http404
    return render(request, "privacy/marketing_done.html", {"confirmed": True, "subscriber": subscriber})


@csrf_exempt  # RFC 8058 one-click: mail clients POST without a form; the token is the secret
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = MarketingSubscriber.objects.filter(token=token).first()
    if subscriber is None:
        raise Http404
    if request.method == "POST":
        marketing.unsubscribe(subscriber=subscriber, channel=C.EMAIL_LINK)
        return render(request, "privacy/marketing_done.html", {"unsubscribed": True})
    return render(request, "privacy/unsubscribe.html", {"subscriber": subscriber})
