"""Consent: the ledger and the one function every consent-gated purpose asks (P8, P19, P27, P29).

Every grant and withdrawal is a ConsentRecord with the subject (user and/or an anonymous
consent id), purpose, the hash of the exact text shown, the channel and the time; the
current state is the newest record. A visitor's cookie choices also travel in a signed
cookie so pages need no query; the ledger stays the proof.

`allowed(purpose, request=..., user=...)` is the only gate. It also applies what always
wins over consent: Global Privacy Control refuses marketing, and a restricted or objecting
user gets no marketing, personalisation or analytics.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from django.core import signing
from django.db import transaction

from privacy.consent.cookies import Kind, cookie_list_version
from privacy.consent.paused import user_is_restricted
from privacy.models import ConsentRecord, ConsentText
from privacy.registry.hooks import withdrawal_hooks

CONSENT_COOKIE = "cookie_consent"
CONSENT_COOKIE_AGE = 60 * 60 * 24 * 182
COOKIE_PURPOSES = {Kind.PREFERENCES: ConsentRecord.Purpose.PREFERENCES, Kind.ANALYTICS: ConsentRecord.Purpose.ANALYTICS, Kind.MARKETING: ConsentRecord.Purpose.MARKETING_COOKIES}

TEXTS = {
    ConsentRecord.Purpose.PREFERENCES: "Allow preference cookies: remember how I like to browse (such as the catalogue's sort order).",
    ConsentRecord.Purpose.ANALYTICS: "Allow anonymous statistics: count my page and product views per day without identifying me.",
    ConsentRecord.Purpose.MARKETING_COOKIES: "Allow marketing cookies: remember which of the shop's campaigns brought me here.",
    ConsentRecord.Purpose.MARKETING_EMAIL: "Send me occasional emails about new products and offers. I can unsubscribe with one click.",
    ConsentRecord.Purpose.PERSONALISATION: "Recommend products from what I have looked at in this shop. My browsing history is kept "
                       "only while this is on, and deleted when I turn it off.",
}
# Purposes a restriction or an objection switches off (P17).
PAUSED_BY_RESTRICTION = {ConsentRecord.Purpose.MARKETING_EMAIL, ConsentRecord.Purpose.MARKETING_COOKIES, ConsentRecord.Purpose.PERSONALISATION, ConsentRecord.Purpose.ANALYTICS}


def text_hash(purpose: str) -> str:
    return hashlib.sha256(TEXTS[purpose].encode()).hexdigest()[:16]


def gpc(request) -> bool:
    """Global Privacy Control: the browser says "do not sell or share"."""
    return request is not None and request.headers.get("Sec-GPC", "").strip() == "1"


@dataclass
class CookieChoice:
    consent_id: str
    choices: dict[str, bool] = field(default_factory=dict)
    version: str = ""

    @property
    def current(self) -> bool:
        return self.version == cookie_list_version()


def cookie_choice(request) -> CookieChoice | None:
    """The visitor's cookie choices, if they made them for the current cookie list."""
    raw = request.COOKIES.get(CONSENT_COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt="privacy.consent.ledger-cookie", max_age=CONSENT_COOKIE_AGE)
        return CookieChoice(consent_id=str(data["id"]), choices={k: bool(v) for k, v in data["c"].items()},
                            version=str(data["v"]))
    except (signing.BadSignature, KeyError, TypeError, AttributeError):
        return None


def _is_paused(user) -> bool:
    return user is not None and getattr(user, "pk", None) and user_is_restricted(user)


def ledger_state(*, purpose: str, user=None, consent_id: str = "", subscriber=None) -> bool:
    q = ConsentRecord.objects.filter(purpose=purpose)
    if user is not None:
        q = q.filter(user=user)
    elif subscriber is not None:
        q = q.filter(subscriber=subscriber)
    elif consent_id:
        q = q.filter(consent_id=consent_id)
    else:
        return False
    latest = q.order_by("-at", "-pk").values_list("granted", flat=True).first()
    return bool(latest)


def allowed(purpose: str, *, request=None, user=None) -> bool:
    """May the shop use this person's data for `purpose` right now?"""
    if request is not None and user is None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    if purpose in PAUSED_BY_RESTRICTION and _is_paused(user):
        return False
    if purpose in (ConsentRecord.Purpose.MARKETING_COOKIES, ConsentRecord.Purpose.MARKETING_EMAIL) and gpc(request):
        return False
    if purpose in COOKIE_PURPOSES.values():
        choice = cookie_choice(request) if request is not None else None
        kind = next(k for k, p in COOKIE_PURPOSES.items() if p == purpose)
        return bool(choice and choice.current and choice.choices.get(kind))
    return ledger_state(purpose=purpose, user=user) if user is not None else False


@transaction.atomic
@transaction.atomic
def record(*, purpose: str, granted: bool, channel: str, user=None, consent_id: str = "",
           subscriber=None) -> ConsentRecord:
    """One grant or withdrawal in the ledger; a withdrawal also runs what the owning apps declared
    for it (privacy.registry.hooks.on_withdrawal), in the same transaction."""
    h = text_hash(purpose)
    ConsentText.objects.get_or_create(hash=h, defaults={"purpose": purpose, "text": TEXTS[purpose]})
    user = user if getattr(user, "pk", None) else None
    entry = ConsentRecord.objects.create(user=user, consent_id=consent_id, subscriber=subscriber,
                                         purpose=purpose, granted=granted, text_hash=h, channel=channel)
    if not granted and user is not None:
        for hook in withdrawal_hooks(purpose):
            hook.run(user=user)
    return entry


@transaction.atomic
def cookies_choose(*, request, choices: dict[str, bool], channel: str) -> CookieChoice:
    """Record a visitor's cookie choices in the ledger; returns what the cookie must hold.
    GPC forces marketing off whatever was ticked."""
    previous = cookie_choice(request)
    consent_id = previous.consent_id if previous else secrets.token_hex(16)
    if gpc(request):
        choices = {**choices, Kind.MARKETING: False}
    user = request.user if request.user.is_authenticated else None
    for kind, purpose in COOKIE_PURPOSES.items():
        granted = bool(choices.get(kind))
        if previous is None or not previous.current or previous.choices.get(kind) != granted:
            record(purpose=purpose, granted=granted, user=user, consent_id=consent_id,
                   channel=ConsentRecord.Channel.GPC if (kind == Kind.MARKETING and gpc(request)) else channel)
    return CookieChoice(consent_id=consent_id, choices={k: bool(choices.get(k)) for k in COOKIE_PURPOSES},
                        version=cookie_list_version())


def set_choice_cookie(response, choice: CookieChoice, *, secure: bool) -> None:
    value = signing.dumps({"id": choice.consent_id, "c": choice.choices, "v": choice.version},
                          salt="privacy.consent.ledger-cookie", compress=True)
    response.set_cookie(CONSENT_COOKIE, value, max_age=CONSENT_COOKIE_AGE, secure=secure, httponly=True,
                        samesite="Lax")
