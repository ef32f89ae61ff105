"""Consent: the ledger and the one function every consent-gated purpose asks (P8, P19, P27, P29).

Every grant and withdrawal is a ConsentRecord with the subject (user and/or an anonymous
consent id), purpose, the hash of the exact text shown, the channel and the time; the
current state is the newest record. A visitor's cookie choices also travel in a signed
cookie so pages need no query; the ledger stays the proof.

`allowed(purpose, request=..., user=...)` is the only gate. It also applies what always
wins over consent: Global Privacy Control refuses marketing, and a restricted or objecting
user gets no marketing, personalisation or analytics.

Global Privacy Control (P19). The signal (`Sec-GPC: 1`) refuses what GPC_REFUSES lists: the
marketing cookie, marketing email and recommendations built from browsing (profiling). Anonymous
statistics are not refused: they hold no identifier, so nothing about the visitor can be sold
or shared. A blanket "Accept all" never overrides the signal. A visitor who ticks one of these
choices on purpose is asked once more (gpc_unconfirmed: which choices still need that second
step); only the second, explicit confirmation is recorded, with `against_gpc=True` and the hash
of the confirmation's exact wording. Without it nothing is turned on and nothing is recorded.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core import signing
from django.db import connection, transaction

from privacy.consent.cookies import Kind, cookie_list_version
from privacy.consent.paused import remember as remember_restriction
from privacy.consent.paused import user_is_restricted
from privacy.models import ConsentRecord, ConsentText, Restriction
from privacy.protection.memo import PerObjectCache
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
# What the Global Privacy Control signal refuses, and how the second question names it.
GPC_REFUSES = {
    ConsentRecord.Purpose.MARKETING_COOKIES: "marketing cookies",
    ConsentRecord.Purpose.MARKETING_EMAIL: "marketing emails",
    ConsentRecord.Purpose.PERSONALISATION: "recommendations built from your browsing",
}
GPC_KINDS = frozenset(k for k, p in COOKIE_PURPOSES.items() if p in GPC_REFUSES)  # cookie kinds the signal refuses
# Purposes a restriction or an objection switches off (P17).
PAUSED_BY_RESTRICTION = {ConsentRecord.Purpose.MARKETING_EMAIL, ConsentRecord.Purpose.MARKETING_COOKIES, ConsentRecord.Purpose.PERSONALISATION, ConsentRecord.Purpose.ANALYTICS}


def text_hash(purpose: str) -> str:
    return hashlib.sha256(TEXTS[purpose].encode()).hexdigest()[:16]


def gpc(request) -> bool:
    """Global Privacy Control: the browser says "do not sell or share"."""
    return request is not None and request.headers.get("Sec-GPC", "").strip() == "1"


def gpc_confirm_text(purpose: str) -> str:
    """The exact wording of the second question, shown before a choice is made against the signal."""
    return (f"Your browser sends the Global Privacy Control signal. It asks us not to use your data for "
            f"{GPC_REFUSES[purpose]}, and we follow it unless you tell us otherwise. Turning this on overrides "
            f"the signal for this one choice only: {TEXTS[purpose]} You can turn it off again at any time.")


def gpc_confirm_hash(purpose: str) -> str:
    return hashlib.sha256(gpc_confirm_text(purpose).encode()).hexdigest()[:16]


def gpc_unconfirmed(*, request, turning_on: Iterable[str], confirmations: Iterable[str]) -> list[str]:
    """Among the purposes a visitor is turning on, those the signal refuses and that they have not
    yet confirmed against it (a confirmation is the hash of the wording they were shown, so a
    changed wording asks again). Empty without GPC: then nothing changes for anyone."""
    if not gpc(request):
        return []
    confirmed = set(confirmations)
    return [p for p in turning_on if p in GPC_REFUSES and gpc_confirm_hash(p) not in confirmed]


@dataclass
class CookieChoice:
    consent_id: str
    choices: dict[str, bool] = field(default_factory=dict)
    version: str = ""
    against_gpc: frozenset[str] = frozenset()  # kinds turned on, confirmed, against the signal

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
                            version=str(data["v"]), against_gpc=frozenset(str(k) for k in data.get("g", ())))
    except (signing.BadSignature, KeyError, TypeError, AttributeError):
        return None


def _is_paused(user) -> bool:
    return user is not None and getattr(user, "pk", None) and user_is_restricted(user)


def _user_state_sql(user: str = "%s") -> str:
    # Plain SQL, built once, for the question signed-in pages ask (personalisation): the same
    # rule as below (the newest record wins), without compiling the ORM's query per request.
    # `user`: the user's id, as a parameter or as an outer query's column.
    return (f"SELECT granted FROM {ConsentRecord._meta.db_table} WHERE purpose = %s AND user_id = {user} "
            "ORDER BY \"at\" DESC, id DESC LIMIT 1")


USER_STATE_SQL = _user_state_sql()

# Ledger answers read with the user's own row (shop's signed-in frame query), per user object: a
# user object lives for one request, so they are the database's at the start of that request.
_states_read: PerObjectCache[dict[str, bool]] = PerObjectCache()


def user_consent_sql(*, purpose: str, user_column: str) -> tuple[str, list]:
    """The ledger's answer for a signed-in user and `purpose` (NULL: never asked) as a scalar
    subquery over `user_column`, and the restriction that pauses it, with their parameters: for a
    query that reads them with the user. Feed the answers to remember_user_consent."""
    restriction = (f"(SELECT 1 FROM {Restriction._meta.db_table} r WHERE r.user_id = {user_column} "
                   "AND r.lifted_at IS NULL LIMIT 1)")
    return f"({_user_state_sql(user_column)}), {restriction}", [purpose]


def remember_user_consent(*, user, purpose: str, granted, restricted) -> None:
    """The two answers of user_consent_sql read together with `user` (this object only)."""
    states = _states_read.get(user) or {}
    states[purpose] = bool(granted)
    _states_read.set(user, states)
    remember_restriction(user, bool(restricted))


def ledger_state(*, purpose: str, user=None, consent_id: str = "", subscriber=None) -> bool:
    if user is not None:
        known = _states_read.get(user)
        if known is not None and purpose in known:
            return known[purpose]
        with connection.cursor() as cursor:
            cursor.execute(USER_STATE_SQL, [purpose, user.pk])
            row = cursor.fetchone()
        return bool(row and row[0])
    q = ConsentRecord.objects.filter(purpose=purpose)
    if subscriber is not None:
        q = q.filter(subscriber=subscriber)
    elif consent_id:
        q = q.filter(consent_id=consent_id)
    else:
        return False
    latest = q.order_by("-at", "-pk").values_list("granted", flat=True).first()
    return bool(latest)


def _granted_against_gpc(*, purpose: str, user) -> bool:
    if user is None:
        return False
    latest = (ConsentRecord.objects.filter(purpose=purpose, user=user).order_by("-at", "-pk")
              .values_list("granted", "against_gpc").first())
    return bool(latest and latest[0] and latest[1])


def allowed(purpose: str, *, request=None, user=None) -> bool:
    """May the shop use this person's data for `purpose` right now?"""
    if request is not None and user is None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    signal = purpose in GPC_REFUSES and gpc(request)
    if purpose in COOKIE_PURPOSES.values():
        # The cookie first: most visitors' answer needs no query (the restriction is asked only
        # when the cookie would allow the purpose).
        choice = cookie_choice(request) if request is not None else None
        kind = next(k for k, p in COOKIE_PURPOSES.items() if p == purpose)
        if not (choice and choice.current and choice.choices.get(kind) and (not signal or kind in choice.against_gpc)):
            return False
        return not (purpose in PAUSED_BY_RESTRICTION and _is_paused(user))
    if user is None:
        return False
    # The ledger first, the restriction only for a purpose that is on: one query when it is off.
    granted = _granted_against_gpc(purpose=purpose, user=user) if signal else ledger_state(purpose=purpose, user=user)
    return granted and not (purpose in PAUSED_BY_RESTRICTION and _is_paused(user))


@transaction.atomic
def record(*, purpose: str, granted: bool, channel: str, user=None, consent_id: str = "",
           subscriber=None, against_gpc: bool = False) -> ConsentRecord:
    """One grant or withdrawal in the ledger; a withdrawal also runs what the owning apps declared
    for it (privacy.registry.hooks.on_withdrawal), in the same transaction. A grant confirmed
    against the GPC signal keeps the hash of the confirmation's wording (which quotes the
    purpose's own text)."""
    against_gpc = bool(against_gpc and granted)
    h, text = (gpc_confirm_hash(purpose), gpc_confirm_text(purpose)) if against_gpc else (text_hash(purpose), TEXTS[purpose])
    ConsentText.objects.get_or_create(hash=h, defaults={"purpose": purpose, "text": text})
    user = user if getattr(user, "pk", None) else None
    entry = ConsentRecord.objects.create(user=user, consent_id=consent_id, subscriber=subscriber, against_gpc=against_gpc,
                                         purpose=purpose, granted=granted, text_hash=h, channel=channel)
    if not granted and user is not None:
        for hook in withdrawal_hooks(purpose):
            hook.run(user=user)
    return entry


@transaction.atomic
def cookies_choose(*, request, choices: dict[str, bool], channel: str, confirmations: Iterable[str] = ()) -> CookieChoice:
    """Record a visitor's cookie choices in the ledger; returns what the cookie must hold.
    Under GPC a kind the signal refuses stays off (recorded as refused by the signal) unless it
    is already on against the signal or its confirmation (gpc_confirm_hash) is among
    `confirmations`; only a changed choice is recorded."""
    previous = cookie_choice(request)
    current = previous if previous is not None and previous.current else None
    consent_id = previous.consent_id if previous else secrets.token_hex(16)
    signal, confirmed = gpc(request), set(confirmations)
    user = request.user if request.user.is_authenticated else None
    final, against = {}, set()
    for kind, purpose in COOKIE_PURPOSES.items():
        granted, override, was_on = bool(choices.get(kind)), False, bool(current and current.choices.get(kind))
        kept = was_on and current is not None and kind in current.against_gpc  # on against the signal already
        if granted and (kept or (signal and purpose in GPC_REFUSES and gpc_confirm_hash(purpose) in confirmed)):
            override = not kept
            against.add(kind)
        elif signal and purpose in GPC_REFUSES:
            granted = False
        final[kind] = granted
        if current is None or was_on != granted or override:
            forced = signal and purpose in GPC_REFUSES and not granted
            record(purpose=purpose, granted=granted, user=user, consent_id=consent_id, against_gpc=override,
                   channel=ConsentRecord.Channel.GPC if forced else channel)
    return CookieChoice(consent_id=consent_id, choices=final, version=cookie_list_version(), against_gpc=frozenset(against))


def set_choice_cookie(response, choice: CookieChoice, *, secure: bool) -> None:
    value = signing.dumps({"id": choice.consent_id, "c": choice.choices, "v": choice.version,
                           "g": sorted(choice.against_gpc)},
                          salt="privacy.consent.ledger-cookie", compress=True)
    response.set_cookie(CONSENT_COOKIE, value, max_age=CONSENT_COOKIE_AGE, secure=secure, httponly=True,
                        samesite="Lax")
