"""Cookie settings, the dashboard's consent switches, and the marketing-email opt-in and opt-out pages."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from config import converters  # noqa: F401  (registers the token converter)
from config.web import redirect_back
from privacy.consent import ledger as consent
from privacy.consent import marketing
from privacy.consent.choices import account_choices
from privacy.consent.cookies import cookie_list_version, cookies_by_kind
from privacy.consent.forms import ConsentSettingsForm, CookieChoiceForm
from privacy.models import ConsentRecord, MarketingSubscriber
from privacy.protection.throttle import limit

Channel = ConsentRecord.Channel


def _ask_again(request: HttpRequest, *, purposes: list[str], fields: list[tuple[str, str]],
               refused_fields: set[str], action: str, back: str) -> HttpResponse:
    """The second question before a choice against the GPC signal: nothing is recorded until its
    "Turn on anyway" button posts the same choices back with the wording's hash. "Keep it off"
    posts them without the refused ones. Plain forms, no script."""
    return render(request, "privacy/gpc_confirm.html", {
        "items": [(ConsentRecord.Purpose(p).label, consent.gpc_confirm_text(p), consent.gpc_confirm_hash(p))
                  for p in purposes],
        "fields": fields, "kept_fields": [(n, v) for n, v in fields if n not in refused_fields],
        "action": action, "back": back,
    })


@require_http_methods(["GET", "POST"])
def cookie_settings(request: HttpRequest) -> HttpResponse:
    """The banner's buttons post here; "Choose" and the footer link open it. Works without JS."""
    if request.method == "POST":
        form = CookieChoiceForm(request.POST)
        if form.is_valid():
            wanted, confirmations = form.choices(), request.POST.getlist("gpc_confirm")
            previous = consent.cookie_choice(request)
            already = previous.against_gpc if previous and previous.current else frozenset()
            explicit = form.cleaned_data["action"] == "save"  # "Accept all" never overrides the signal
            turning_on = {consent.COOKIE_PURPOSES[k]: k for k, on in wanted.items()
                          if on and explicit and not (k in already and previous.choices.get(k))}
            unconfirmed = consent.gpc_unconfirmed(request=request, turning_on=turning_on, confirmations=confirmations)
            if unconfirmed:
                fields = [(k, "on") for k, on in wanted.items() if on] + [
                    ("action", "save"), ("next", form.cleaned_data.get("next") or "/"),
                    ("from", "banner" if request.POST.get("from") == "banner" else "settings")]
                return _ask_again(request, purposes=unconfirmed, fields=fields, action=reverse("privacy:cookies"),
                                  refused_fields={turning_on[p] for p in unconfirmed},
                                  back=reverse("privacy:cookies"))
            choice = consent.cookies_choose(request=request, choices=wanted, confirmations=confirmations,
                                            channel=Channel.BANNER if request.POST.get("from") == "banner"
                                            else Channel.SETTINGS)
            response = redirect_back(request)
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
    against = choice.against_gpc if choice and choice.current else frozenset()
    signal = consent.gpc(request)
    kinds = [(kind, label, text, cookies,
              bool(current.get(kind)) and (not signal or kind not in consent.GPC_KINDS or kind in against),
              signal and kind in consent.GPC_KINDS)
             for kind, label, text, cookies in cookies_by_kind()]
    return render(request, "privacy/cookies.html", {
        "kinds": kinds, "next": request.GET.get("next", "/"), "list_version": cookie_list_version(),
    })


@login_required
@require_POST
@limit("marketing_subscribe",  # only a request that would email a confirmation counts; withdrawing never
       when=lambda r: bool(r.POST.get("marketing_email")) and not account_choices(r.user)["marketing_email"])
def consent_update(request: HttpRequest) -> HttpResponse:
    """Grant or withdraw marketing email and personalisation; takes effect at once. Under GPC,
    turning either on asks once more (nothing changes until the second "Turn on anyway")."""
    form = ConsentSettingsForm(request.POST)
    if not form.is_valid():
        raise Http404
    user, before = request.user, account_choices(request.user)
    wants = form.cleaned_data
    purposes = {"marketing_email": ConsentRecord.Purpose.MARKETING_EMAIL,
                "personalisation": ConsentRecord.Purpose.PERSONALISATION}
    turning_on = {purposes[name]: name for name in purposes if wants[name] and not before[name]}
    unconfirmed = consent.gpc_unconfirmed(request=request, turning_on=turning_on,
                                          confirmations=request.POST.getlist("gpc_confirm"))
    if unconfirmed:
        return _ask_again(request, purposes=unconfirmed, fields=[(n, "on") for n in purposes if wants[n]],
                          refused_fields={turning_on[p] for p in unconfirmed}, action=reverse("privacy:consent_update"),
                          back=reverse("privacy:dashboard"))
    against = consent.gpc(request)  # reaching here under GPC means every new grant was confirmed
    if wants["personalisation"] != before["personalisation"]:
        consent.record(purpose=ConsentRecord.Purpose.PERSONALISATION, granted=wants["personalisation"],
                       channel=Channel.DASHBOARD, user=user,
                       against_gpc=against)  # withdrawing deletes the history (shop declares it)
    if wants["marketing_email"] and not before["marketing_email"]:
        marketing.subscribe_request(email=user.email, user=user, channel=Channel.DASHBOARD, against_gpc=against)
        messages.info(request, "Check your inbox: confirm the subscription with the link we sent.")
    elif not wants["marketing_email"] and before["marketing_email"]:
        subscriber = MarketingSubscriber.objects.get(user=user)
        marketing.unsubscribe(subscriber=subscriber, channel=Channel.DASHBOARD)
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
        marketing.unsubscribe(subscriber=subscriber, channel=Channel.EMAIL_LINK)
        return render(request, "privacy/marketing_done.html", {"unsubscribed": True})
    return render(request, "privacy/unsubscribe.html", {"subscriber": subscriber})


# The day our handling of the Global Privacy Control signal last changed (not today's date):
# bump it whenever what GPC refuses, or how the shop asks before overriding it, changes.
GPC_LAST_UPDATE = "2026-12-07"


@require_http_methods(["GET", "HEAD"])
@cache_control(public=True, max_age=86400)
def gpc_json(request: HttpRequest) -> HttpResponse:
    """/.well-known/gpc.json, as the GPC specification defines it: we honour the signal.
    The same for everyone, so it is cacheable, sets no cookie and needs no CSRF token."""
    return JsonResponse({"gpc": True, "lastUpdate": GPC_LAST_UPDATE})


urlpatterns = [
    path(".well-known/gpc.json", gpc_json, name="gpc_json"),
    path("privacy/cookies/", cookie_settings, name="cookies"),
    path("privacy/emails/confirm/<token:token>/", marketing_confirm, name="marketing_confirm"),
    path("privacy/emails/unsubscribe/<token:token>/", unsubscribe, name="unsubscribe"),
    path("account/privacy/consents/", consent_update, name="consent_update"),
]
