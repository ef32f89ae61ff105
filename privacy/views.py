from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.ratelimits import limit

from privacy.consent import ledger as consent

from privacy.consent import marketing

from privacy.policy import versions as policy

from privacy.registry import declarations as registry

from privacy.registry import subjects as selectors
from privacy.consent.cookies import cookies_by_kind, cookie_list_version
from privacy.forms import ConsentSettingsForm, CookieChoiceForm
from privacy.processors.inventory import inventory
from privacy.models import AccessLogEntry, ConsentRecord, Disclosure, MarketingSubscriber, PolicyVersion

C = ConsentRecord.Channel
P = ConsentRecord.Purpose


def _policy_context(version: PolicyVersion | None) -> dict:
    from privacy.retention.purge import rules_for_display

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
    return _back(request)


def _back(request: HttpRequest, default: str = "/") -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return HttpResponseRedirect(target)  # never redirect(), which would try "target" as a view name
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
        names = {f.name for f in entry.model._meta.concrete_fields}
        context_fields = [n for n in ("reference", "created_at", "received_at", "at") if n in names][:2]
        fields = context_fields + [n for n, p in entry.fields.items() if p.export]
        sections.append({
            "name": entry.verbose_name, "description": entry.description, "purpose": entry.purpose.label,
            "legal_basis": entry.legal_basis.label, "categories": [c.label for c in entry.categories()],
            "retention": [f"{r.description} ({r.period.days} days)" for r in entry.retention],
            "columns": [entry.model._meta.get_field(n).verbose_name for n in fields],
            "rows": [[_value(entry, obj, n) for n in fields] for obj in found.rows[:50]],
            "count": len(found.rows),
        })
    accesses = AccessLogEntry.objects.filter(subjects__user_id=request.user.pk).exclude(actor=request.user)
    jobs = list(ExportJob.objects.filter(user=request.user)[:3])
    return render(request, "privacy/dashboard.html", {
        "sections": sections, "section": "privacy",
        "jobs": [(job, export.download_token(job) if job.status == "ready" else "") for job in jobs],
        "job_running": any(j.status in ("queued", "running") for j in jobs),
        "requests": PrivacyRequest.objects.filter(user=request.user).order_by("-received_at")[:20],
        "restricted": user_is_restricted(request.user),
        "erasure": PrivacyRequest.objects.filter(user=request.user, kind=R.Kind.ERASURE, status__in=R.OPEN).first(),
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
@limit("marketing_subscribe",  # only a request that would email a confirmation counts; withdrawing never
       when=lambda r: bool(r.POST.get("marketing_email")) and not _consent_initial(r.user)["marketing_email"])
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


@require_http_methods(["GET", "POST"])
def marketing_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: the emailed link opens a page; only the button confirms (a mail scanner
    following the link confirms nothing)."""
    if request.method == "GET":
        if not MarketingSubscriber.objects.filter(token=token, unsubscribed_at__isnull=True).exists():
            raise Http404
        return render(request, "privacy/marketing_confirm.html", {"token": token})
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


# --- rights ------------------------------------------------------------------------------

from django.conf import settings  # noqa: E402
from django.utils.formats import date_format  # noqa: E402
from django.http import FileResponse  # noqa: E402
import io  # noqa: E402

from privacy.rights import erasure  # noqa: E402

from privacy.rights import export

from privacy.rights import subject_requests as rights
from privacy.forms import ContactForm, DeleteAccountForm, GuestExportForm  # noqa: E402
from privacy.models import ExportJob, PrivacyRequest  # noqa: E402
from privacy.rights.restriction import restriction_lift, restriction_start, user_is_restricted  # noqa: E402

R = PrivacyRequest


@login_required
@require_POST
@limit("export")
def export_start(request: HttpRequest) -> HttpResponse:
    req = rights.access_request_open(user=request.user, verified_by=R.Verification.SESSION,
                                     status=R.Status.IN_PROGRESS)
    export.export_request(user=request.user, request=req)
    messages.success(request, "We are preparing your data. This page shows the progress; we email you when it "
                              "is ready.")
    return redirect(reverse_dashboard("downloads"))


def reverse_dashboard(anchor: str) -> str:
    from django.urls import reverse

    return reverse("privacy:dashboard") + f"#{anchor}"


def _download(job: ExportJob) -> HttpResponse:
    data = export.export_read(job)
    if data is None:
        raise Http404
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=f"my-data-{job.created_at:%Y-%m-%d}.zip",
                            content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export_download(request: HttpRequest, signed: str) -> HttpResponse:
    job = export.job_from_download_token(signed)
    if job is None or job.user_id != request.user.pk:
        raise Http404
    return _download(job)


@require_http_methods(["GET", "POST"])
@limit("guest_export")
def guest_export(request: HttpRequest) -> HttpResponse:
    """A guest asks for their orders' data: we email a confirmation link to the address."""
    form = GuestExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        req = rights.access_request_open(email=form.cleaned_data["email"])
        from django.db import transaction as tx

        tx.on_commit(lambda: _send_guest_confirmation(req.pk))
        return render(request, "privacy/guest_export_sent.html")
    return render(request, "privacy/guest_export.html", {"form": form}, status=400 if form.errors else 200)


def _send_guest_confirmation(request_id: int) -> None:
    from django.urls import reverse

    from privacy.processors.disclosure import send_personal_email

    req = PrivacyRequest.objects.get(pk=request_id)
    url = settings.SITE_URL + reverse("privacy:guest_export_confirm", args=[req.confirm_token])
    send_personal_email(
        to=req.requester_email, subject="Confirm your request for a copy of your data",
        text=f"Someone asked for a copy of the data we hold for this email address. If it was you, confirm here: "
        f"{url}\nIf not, ignore this email.\n— Privacy-first Shop",
        fields=["user.email"], guest_index=req.email_index, reference=f"request {req.pk}")


@require_http_methods(["GET", "POST"])
def guest_export_confirm(request: HttpRequest, token: str) -> HttpResponse:
    req = PrivacyRequest.objects.filter(confirm_token=token, kind=R.Kind.ACCESS, user__isnull=True).first()
    if req is None or not token:
        raise Http404
    if request.method == "GET":  # a link scanner's GET changes nothing
        return render(request, "privacy/guest_export_confirm.html", {"req": req})
    if req.verified_by != R.Verification.EMAIL_LINK:
        req.verified_by, req.status = R.Verification.EMAIL_LINK, R.Status.IN_PROGRESS
        req.save(update_fields=["verified_by", "status"])
    job = ExportJob.objects.filter(request=req).first() or export.export_request(email=req.requester_email, request=req)
    request.session.setdefault("guest_exports", [])
    request.session["guest_exports"] = [*request.session["guest_exports"][-4:], job.token]
    return redirect("privacy:guest_download", token=job.token)


@require_GET
def guest_download(request: HttpRequest, token: str) -> HttpResponse:
    """Progress page and download for a guest: only in the browser session that confirmed."""
    if token not in request.session.get("guest_exports", []):
        raise Http404
    job = ExportJob.objects.filter(token=token, user__isnull=True).first()
    if job is None:
        raise Http404
    if request.GET.get("s"):
        found = export.job_from_download_token(request.GET["s"])
        if found is None or found.pk != job.pk:
            raise Http404
        return _download(found)
    return render(request, "privacy/guest_download.html", {
        "job": job, "signed": export.download_token(job) if job.status == "ready" else ""})


@login_required
@require_http_methods(["GET", "POST"])
@limit("delete_account")
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        req = erasure.erasure_schedule(user=request.user)
        messages.success(request, f"Your account will be deleted on {date_format(req.scheduled_for, 'j F Y')}. "
                                  "You can cancel until then from this page.")
        return redirect("privacy:dashboard")
    plan = _erasure_plan()
    blocking = erasure.blocking_reasons(user=request.user)
    return render(request, "privacy/delete_account.html", {
        "form": form, "plan": plan, "blocking": blocking, "grace_days": settings.PRIVACY_ERASURE_GRACE_DAYS,
        "section": "privacy"}, status=400 if form.errors else 200)


def _erasure_plan() -> dict:
    deleted, kept = [], []
    for entry in registry.entries():
        if entry.subject == "":
            continue
        (kept if entry.keep_rows else deleted).append(entry)
    return {"deleted": deleted, "kept": kept}


@login_required
@require_POST
def delete_account_cancel(request: HttpRequest) -> HttpResponse:
    if erasure.erasure_cancel(user=request.user):
        messages.success(request, "Your account will not be deleted.")
    return redirect("privacy:dashboard")


@login_required
@require_POST
def restriction_toggle(request: HttpRequest) -> HttpResponse:
    if request.POST.get("restrict") == "on":
        restriction_start(user=request.user)
        rights.request_open(kind=R.Kind.RESTRICTION, user=request.user, verified_by=R.Verification.SESSION,
                            status=R.Status.COMPLETED, notify=False)
        messages.success(request, "Restricted: we keep your data but use it for nothing beyond your orders.")
    else:
        restriction_lift(user=request.user)
        messages.success(request, "The restriction was lifted.")
    return redirect(reverse_dashboard("restriction"))


@require_http_methods(["GET", "POST"])
@limit("privacy_contact")
def contact(request: HttpRequest) -> HttpResponse:
    """The privacy contact: questions and complaints file a request on the clock (P24)."""
    user = request.user if request.user.is_authenticated else None
    initial = {"kind": request.GET.get("kind", "question")}
    if request.GET.get("order"):
        initial["message"] = f"About order {request.GET['order'][:20]}: "
    form = ContactForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        req = rights.request_open(kind=d["kind"], user=user, email=d.get("email", ""), message=d["message"],
                                  verified_by=R.Verification.SESSION if user else R.Verification.NONE)
        return render(request, "privacy/contact_sent.html", {"req": req})
    return render(request, "privacy/contact.html", {"form": form}, status=400 if form.errors else 200)
