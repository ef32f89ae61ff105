"""The site's cookies, in one place. The policy page renders this list; the banner asks
again whenever it changes (its version is a hash of the list)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass


class Kind:
    NECESSARY = "necessary"
    PREFERENCES = "preferences"
    ANALYTICS = "analytics"
    MARKETING = "marketing"


KIND_LABELS = {
    Kind.NECESSARY: "Strictly necessary",
    Kind.PREFERENCES: "Preferences",
    Kind.ANALYTICS: "Anonymous statistics",
    Kind.MARKETING: "Marketing",
}
KIND_EXPLANATIONS = {
    Kind.NECESSARY: "Needed for the shop to work: your cart, signing in, form security, remembering this choice. "
                    "Always on.",
    Kind.PREFERENCES: "Remember how you like to browse, such as the catalogue's sort order.",
    Kind.ANALYTICS: "Let us count page and product views per day. No identifier is stored; we cannot tell "
                    "visitors apart.",
    Kind.MARKETING: "Remember which of our campaigns brought you here. Never shared with anyone.",
}


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    kind: str
    lifetime: str


COOKIES = [
    Cookie("sessionid", "Keeps your cart and keeps you signed in.", Kind.NECESSARY, "2 weeks"),
    Cookie("csrftoken", "Protects forms against cross-site request forgery.", Kind.NECESSARY, "1 year"),
    Cookie("messages", "Carries a notice about what you just did, such as an item added to your cart, to the "
           "next page; never anything about you.", Kind.NECESSARY, "until the next page"),
    Cookie("cookie_consent", "Remembers your cookie choices (and an anonymous id for our consent records).",
           Kind.NECESSARY, "6 months"),
    Cookie("prefs_sort", "Remembers how you sort the catalogue.", Kind.PREFERENCES, "1 year"),
    Cookie("mkt_campaign", "Remembers which of our campaigns brought you here.", Kind.MARKETING, "30 days"),
]
OPTIONAL_KINDS = [Kind.PREFERENCES, Kind.ANALYTICS, Kind.MARKETING]


def cookie_list_version() -> str:
    raw = "|".join(f"{c.name}:{c.kind}:{c.purpose}:{c.lifetime}" for c in COOKIES)
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def cookies_by_kind() -> list[tuple[str, str, str, list[Cookie]]]:
    return [(k, KIND_LABELS[k], KIND_EXPLANATIONS[k], [c for c in COOKIES if c.kind == k]) for k in KIND_LABELS]
