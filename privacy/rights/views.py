"""A person's rights, self-served: the dashboard of their data, the download, deleting the
account, restriction, a guest's copy of their orders' data, and the privacy contact."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config import converters  # noqa: F401  (registers the signed and token converters)
from privacy.consent.choices import account_choices
from privacy.consent.forms import ConsentSettingsForm
from privacy.models import ExportJob, PrivacyRequest
from privacy.processors.disclosure import send_personal_email
from privacy.protection.throttle import limit
from privacy.rights import dashboard as page
from privacy.rights import erasure, export, partial, receipts
from privacy.rights import subject_requests as rights
from privacy.rights import subjects as selectors
from privacy.rights.forms import ContactForm, DeleteAccountForm, GuestExportForm
from privacy.rights.restriction import restriction_lift, restriction_start, user_is_restricted


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Your data: what we hold about you, by category, with purpose, basis and retention —
    generated from the registry, with the values decrypted for you alone."""
    jobs = list(ExportJob.objects.filter(user=request.user)[:3])
    return render(request, "privacy/dashboard.html", {
        "sections": page.privacy_page(user=request.user), "section": "privacy",
        "jobs": [(job, export.download_token(job) if job.status == "ready" else "") for job in jobs],
        "job_running": any(j.status in ("queued", "running") for j in jobs),
        "restricted": user_is_restricted(request.user),
        "erasure": PrivacyRequest.objects.filter(user=request.user, kind=PrivacyRequest.Kind.ERASURE,
                                                 status__in=PrivacyRequest.OPEN).first(),
        "consent_form": ConsentSettingsForm(initial=account_choices(request.user)),
        "legal_holds": selectors.legal_holds_for(request.user),
    })


@login_required
@require_POST
@limit("export")
def export_start(request: HttpRequest) -> HttpResponse:
    case = rights.access_request_open(user=request.user, verified_by=PrivacyRequest.Verification.SESSION,
                                      status=PrivacyRequest.Status.IN_PROGRESS)
    export.export_request(user=request.user, case=case)
    messages.success(request, "We are preparing your data. This page shows the progress; we email you when it "
                              "is ready.")
    return redirect(reverse_dashboard("downloads"))


def reverse_dashboard(anchor: str) -> str:
    return reverse("privacy:dashboard") + f"#{anchor}"


def _download(job: ExportJob) -> HttpResponse:
    chunks = export.export_chunks(job)  # decrypted segment by segment as the client reads
    if chunks is None:
        raise Http404
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{job.created_at:%Y-%m-%d}.zip"'
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
        case = rights.access_request_open(email=form.cleaned_data["email"])
        transaction.on_commit(lambda: _send_guest_confirmation(case.pk))
        return render(request, "privacy/guest_export_sent.html")
    return render(request, "privacy/guest_export.html", {"form": form}, status=400 if form.errors else 200)


def _send_guest_confirmation(case_id: int) -> None:
    case = PrivacyRequest.objects.get(pk=case_id)
    url = settings.SITE_URL + reverse("privacy:guest_export_confirm", args=[case.confirm_token])
    send_personal_email(
        to=case.requester_email, subject="Confirm your request for a copy of your data",
        text=f"Someone asked for a copy of the data we hold for this email address. If it was you, confirm here: "
        f"{url}\nIf not, ignore this email.\n— Privacy-first Shop",
        fields=["user.email"], guest_index=case.email_index, reference=f"request {case.pk}")


@require_http_methods(["GET", "POST"])
def guest_export_confirm(request: HttpRequest, token: str) -> HttpResponse:
    case = PrivacyRequest.objects.filter(confirm_token=token, kind=PrivacyRequest.Kind.ACCESS,
                                         user__isnull=True).first()
    if case is None or not token:
        raise Http404
    if request.method == "GET":  # a link scanner's GET changes nothing
        return render(request, "privacy/guest_export_confirm.html", {"req": case})
    if case.verified_by != PrivacyRequest.Verification.EMAIL_LINK:
        case.verified_by, case.status = PrivacyRequest.Verification.EMAIL_LINK, PrivacyRequest.Status.IN_PROGRESS
        case.save(update_fields=["verified_by", "status"])
    job = (ExportJob.objects.filter(request=case).first()
           or export.export_request(email=case.requester_email, case=case))
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
        case = erasure.erasure_schedule(user=request.user)
        messages.success(request, f"Your account will be deleted on {date_format(case.scheduled_for, 'j F Y')}. "
                                  "You can cancel until then from this page.")
        return redirect("privacy:dashboard")
    plan = page.deletion_plan(user=request.user)
    blocking = erasure.blocking_reasons(user=request.user)
    return render(request, "privacy/delete_account.html", {
        "form": form, "plan": plan, "blocking": blocking, "grace_days": settings.PRIVACY_ERASURE_GRACE_DAYS,
        "section": "privacy"}, status=400 if form.errors else 200)


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
        rights.request_open(kind=PrivacyRequest.Kind.RESTRICTION, user=request.user,
                            verified_by=PrivacyRequest.Verification.SESSION,
                            status=PrivacyRequest.Status.COMPLETED, notify=False)
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
        data = form.cleaned_data
        case = rights.request_open(kind=data["kind"], user=user, email=data.get("email", ""), message=data["message"],
                                   jurisdiction=data.get("jurisdiction", ""),
                                   verified_by=PrivacyRequest.Verification.SESSION if user
                                   else PrivacyRequest.Verification.NONE)
        return render(request, "privacy/contact_sent.html", {"req": case})
    return render(request, "privacy/contact.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def erasure_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The receipt of an erasure, opened from the link in its email while the link lives (the
    person's account is gone, so no sign-in). It holds no personal value."""
    receipt = receipts.receipt_live(token)
    if receipt is None:
        raise Http404
    response = render(request, "privacy/erasure_receipt.html", receipts.receipt_context(receipt))
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@limit("partial_erasure")
def partial_erasure(request: HttpRequest, kind: str) -> HttpResponse:
    """Delete one kind of your data without closing the account: a confirmation page (what goes,
    what stays and why), then, on POST, at once, recorded as an erasure request answered at once."""
    try:
        declared = {k.kind: k for k in partial.partial_kinds()}[kind]
    except KeyError:
        raise Http404 from None
    session_key = request.session.session_key or ""
    if request.method == "POST":
        case, outcome = partial.partial_erase(user=request.user, kind=kind, session_key=session_key)
        if case.status == PrivacyRequest.Status.REFUSED:
            messages.error(request, case.refusal_reason)
        else:
            messages.success(request, partial.summary(declared, outcome))
        return redirect(reverse_dashboard("partial-erasure"))
    preview = partial.partial_preview(user=request.user, kind=kind, session_key=session_key)
    held_until = partial.person_hold_until(request.user)
    return render(request, "privacy/partial_erasure_confirm.html", {
        "kind": declared, "preview": preview, "section": "privacy",
        "held": partial.held_reason(held_until) if held_until else ""})


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One of your requests: what you asked, its status and our answer (yours only)."""
    case = PrivacyRequest.objects.filter(pk=pk, user=request.user).first()
    if case is None:
        raise Http404
    return render(request, "privacy/request_detail.html", {"req": case, "section": "privacy"})


urlpatterns = [
    path("privacy/contact/", contact, name="contact"),
    path("privacy/my-data/", guest_export, name="guest_export"),
    path("privacy/my-data/confirm/<token:token>/", guest_export_confirm, name="guest_export_confirm"),
    path("privacy/my-data/download/<token:token>/", guest_download, name="guest_download"),
    path("account/privacy/", dashboard, name="dashboard"),
    path("account/privacy/export/", export_start, name="export_start"),
    path("account/privacy/download/<signed:signed>/", export_download, name="export_download"),
    path("account/privacy/delete/", delete_account, name="delete_account"),
    path("account/privacy/delete/cancel/", delete_account_cancel, name="delete_account_cancel"),
    path("account/privacy/restriction/", restriction_toggle, name="restriction"),
    path("privacy/erasure-receipt/<token:token>/", erasure_receipt, name="erasure_receipt"),
    path("account/privacy/erase/<slug:kind>/", partial_erasure, name="partial_erasure"),
    path("account/privacy/requests/<int:pk>/", request_detail, name="request_detail"),
]
