"""What the privacy page shows a person: everything we hold about them, grouped the way they
think of it (their account, orders, addresses, messages...), each value labelled in words, and
for each group why we hold it, on what basis and for how long.

It reads the registry, so nothing registered can be left off: a model this module has no words
for still appears, under "Other records", with its fields' own names. Values are returned as
stored (dates, amounts, booleans); the template's `readable` filter puts them in words.
The cost is one query per registered model, however many orders the person has.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from django.db.models import Model

from privacy.models import AccessLogEntry
from privacy.processors.disclosure import PROCESSORS
from privacy.registry import declarations as registry
from privacy.registry.taxonomy import LegalBasis
from privacy.rights import subjects as selectors

SHOWN = 50  # records per kind on the page; the download has them all


@dataclass
class Record:
    title: str
    facts: list[tuple[str, object]]
    parts: list[Record] = field(default_factory=list)  # e.g. an order's lines, a conversation's messages
    note: str = ""


@dataclass
class About:
    """Why, on what basis and how long, for one group: one line each, the details folded away."""

    purposes: list[str]
    bases: list[tuple[str, str]]  # (basis, what it means)
    retention: list[str]
    kept: list[str]  # what stays, without the person, after they delete their account, and why
    recipients: list[str]
    categories: list[str]
    descriptions: list[str]


@dataclass
class Section:
    key: str
    title: str
    intro: str
    records: list[Record]
    about: About | None
    total: int = 0
    empty: str = "Nothing."
    short: str = ""  # in the page's table of contents


BASIS_MEANS = {
    LegalBasis.CONTRACT: "we need it to do what you asked of us (your account, your orders)",
    LegalBasis.CONSENT: "you said yes, and you can say no at any time",
    LegalBasis.LEGAL_OBLIGATION: "the law requires us to keep it",
    LegalBasis.LEGITIMATE_INTERESTS: "we need it to keep the shop safe and working, and weighed that against "
                                     "your privacy",
}

# (key, title, intro, model labels). A registered model not named here goes under "Other records".
GROUPS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("account", "Your account", "Who you are to us and how you sign in.",
     ("shop.User", "account.EmailAddress", "account.EmailConfirmation", "mfa.Authenticator",
      "privacy.PolicyAcknowledgement")),
    ("orders", "Your orders", "What you bought, where it went and how you paid.",
     ("orders.Order", "orders.OrderLine", "orders.Payment", "orders.ReturnRequest")),
    ("addresses", "Your addresses", "Your address book, offered at checkout.", ("shop.Address",)),
    ("messages", "Your messages", "Your conversations with our customer service.",
     ("orders.SupportThread", "orders.SupportMessage", "orders.Attachment")),
    ("sessions", "Where you are signed in", "The browsers signed in to your account, so you can spot one "
     "you do not know and sign it out.", ("usersessions.UserSession", "sessions.Session")),
    ("shopping", "Your cart and the products you looked at", "What is in your cart, and what you looked at "
     "if you allowed recommendations.", ("shop.Cart", "shop.CartItem", "shop.BrowsingEvent")),
    ("consents", "Your consents", "What you allowed or refused, and when: our proof that we asked.",
     ("privacy.ConsentRecord", "privacy.MarketingSubscriber")),
    ("requests", "Your privacy requests", "What you asked of us about your data, and our answers.",
     ("privacy.PrivacyRequest", "privacy.ExportJob", "privacy.Restriction", "privacy.LegalHold",
      "privacy.AffectedPerson", "privacy.ProcessorDeletion")),
    ("recipients", "Who received your data", "Companies that work for us and received some of your data, "
     "what they received and why.", ("privacy.Disclosure",)),
    ("staff-access", "When our staff looked at your records", "Every time a member of our staff opened or "
     "changed your records. We never show them more than their job needs.",
     ("privacy.AccessLogEntry", "privacy.AccessLogSubject")),
]
NESTED = {"orders.OrderLine": ("order_id", "orders.Order"), "orders.Payment": ("order_id", "orders.Order"),
          "orders.ReturnRequest": ("order_id", "orders.Order"),
          "orders.SupportMessage": ("thread_id", "orders.SupportThread"),
          "shop.CartItem": ("cart_id", "shop.Cart")}
RELATED = {"shop.BrowsingEvent": ("product",), "shop.CartItem": ("product",),
           "orders.SupportMessage": ("thread",)}


def _display(obj: Model, name: str):
    value = getattr(obj, name)
    if value not in (None, "") and getattr(obj._meta.get_field(name), "choices", None):
        return getattr(obj, f"get_{name}_display")()
    return value


def _facts(obj: Model, pairs: list[tuple[str, str]]) -> list[tuple[str, object]]:
    """(label, value) for the fields that hold something; empty ones are left out."""
    return [(label, v) for name, label in pairs if (v := _display(obj, name)) not in (None, "")]


def _field_words(key: str) -> str:
    """"user.email" -> "your email"; "order.total" -> "order total" (a processor's received fields)."""
    owner, _, name = key.partition(".")
    return f"{'your' if owner == 'user' else owner} {name.replace('_', ' ')}".strip()


# --- one builder per kind of record: the title a person knows it by, and labelled facts -------

def _user(u) -> Record:
    return Record("Your details", _facts(u, [("name", "Name"), ("email", "Email you sign in with"),
                                             ("phone", "Phone"), ("date_joined", "Account opened"),
                                             ("adult_confirmed_at", "You confirmed you are 18 or older")]))


def _email(e) -> Record:
    return Record(e.email, [("Verified", e.verified), ("Main address", e.primary)])


def _authenticator(a) -> Record:
    return Record(f"Two-factor authentication: {a.get_type_display().lower()}",
                  _facts(a, [("created_at", "Set up"), ("last_used_at", "Last used")]))


def _address(a) -> Record:
    return Record(a.label or "Address", _facts(a, [
        ("name", "Name"), ("line1", "Address"), ("line2", "Address, second line"), ("city", "City"),
        ("postal_code", "Postal code"), ("region", "State or region"), ("country", "Country"), ("phone", "Phone"),
        ("created_at", "Added")]), note="Your default address" if a.is_default else "")


def _order(o) -> Record:
    facts = _facts(o, [("created_at", "Placed"), ("status", "Status"), ("total", "Total"),
                       ("email", "Email for this order"), ("shipping_name", "Delivered to"),
                       ("shipping_line1", "Address"), ("shipping_line2", "Address, second line"),
                       ("shipping_city", "City"), ("shipping_postal_code", "Postal code"),
                       ("shipping_region", "State or region"), ("shipping_country", "Country"),
                       ("phone", "Phone"), ("carrier", "Carrier"), ("tracking_number", "Tracking number"),
                       ("paid_at", "Paid"), ("shipped_at", "Shipped"), ("delivered_at", "Delivered"),
                       ("cancelled_at", "Cancelled")])
    note = "Your details on this order were erased; what was bought and paid stays for our accounts." \
        if o.anonymised_at else ""
    return Record(f"Order {o.reference}", facts, note=note)


def _order_line(ln) -> Record:
    return Record(f"{ln.quantity} × {ln.product_name}", [("Price each", ln.unit_price), ("Line total", ln.line_total)])


def _payment(p) -> Record:
    card = " ".join(x for x in (p.card_brand.title() if p.card_brand else "", f"ending {p.card_last4}"
                                if p.card_last4 else "") if x)
    return Record("Payment", [("Card", card or None), *_facts(p, [("status", "Status"), ("amount", "Amount"),
                                                                  ("created_at", "Started")])])


def _return(r) -> Record:
    return Record("Return", _facts(r, [("created_at", "Asked"), ("status", "Status"), ("reason", "Your reason"),
                                       ("refusal_reason", "Why we refused"), ("refunded_at", "Refunded")]))


def _thread(t) -> Record:
    return Record(t.subject or "Conversation", _facts(t, [("created_at", "Started"), ("status", "Status"),
                                                         ("updated_at", "Last message")]))


def _message(m) -> Record:
    return Record(f"{'From us' if m.from_staff else 'From you'}", [("Sent", m.created_at), ("Message", m.body)])


def _attachment(a) -> Record:
    return Record(f"Attached file: {a.original_name or 'a file'}", [("Size", f"{a.size:,} bytes")])


def _session(s) -> Record:
    return Record(s.user_agent or "A browser", _facts(s, [
        ("created_at", "Signed in"), ("last_seen_at", "Last active"),
        ("ip", "Network (shortened)")]))


def _cart(c) -> Record:
    return Record("Your cart", _facts(c, [("updated_at", "Last changed")]))


def _cart_item(i) -> Record:
    return Record(f"{i.quantity} × {i.product}", [])


def _viewed(v) -> Record:
    return Record(str(v.product), [("Viewed", v.at)])


def _consent(c) -> Record:
    return Record(c.get_purpose_display(), [("Your choice", "Allowed" if c.granted else "Refused"),
                                            ("Where", c.get_channel_display()), ("When", c.at)])


def _subscriber(s) -> Record:
    return Record("Marketing emails", _facts(s, [("email", "Sent to"), ("requested_at", "You asked"),
                                                 ("confirmed_at", "You confirmed"),
                                                 ("unsubscribed_at", "You unsubscribed")]))


def _request(r) -> Record:
    return Record(r.get_kind_display(), _facts(r, [
        ("received_at", "Received"), ("status", "Status"), ("scope", "What you asked us to delete"),
        ("acknowledge_by", "We confirm we have it by"), ("due_at", "Answer due"), ("clock", "Deadline set by"),
        ("closed_at", "Closed"),
        ("message", "Your message"), ("reply", "Our answer"), ("refusal_reason", "Why we refused"),
        ("scheduled_for", "Planned for")]))


def _export(j) -> Record:
    return Record("Download of your data", _facts(j, [("created_at", "Asked"), ("status", "Status"),
                                                      ("expires_at", "Deleted on")]))


def _restriction(r) -> Record:
    return Record("Restriction of the use of your data", _facts(r, [("started_at", "Started"),
                                                                     ("lifted_at", "Lifted")]))


def _hold(h) -> Record:
    return Record(f"Kept for a legal reason: {h.get_kind_display().lower()}",
                  _facts(h, [("legal_basis", "Legal basis"), ("expires_at", "Until")]))


def _affected(a) -> Record:
    return Record("A security incident that concerned your data", _facts(a, [("notified_at", "We told you")]))


def _disclosure(d) -> Record:
    processor = PROCESSORS.get(d.processor)
    return Record(processor.name if processor else d.processor.capitalize(), [
        ("When", d.at), ("What", ", ".join(_field_words(f) for f in d.fields or [])), ("Why", d.purpose),
        ("Where it is kept", f"{d.country} ({d.safeguard})" if d.safeguard else d.country)])


def _generic(entry: registry.Entry) -> Callable[[Model], Record]:
    """For a model this module has no words for: its description and its fields' own names."""
    shown = [n for n, p in entry.fields.items() if p.export and not n.endswith("index") and "token" not in n]
    pairs = [(n, str(entry.model._meta.get_field(n).verbose_name).capitalize()) for n in shown]

    def build(obj: Model) -> Record:
        return Record(entry.description or "A record", _facts(obj, pairs))
    return build


BUILDERS: dict[str, Callable[[Model], Record]] = {
    "shop.User": _user, "account.EmailAddress": _email, "mfa.Authenticator": _authenticator,
    "shop.Address": _address, "orders.Order": _order, "orders.OrderLine": _order_line, "orders.Payment": _payment,
    "orders.ReturnRequest": _return, "orders.SupportThread": _thread, "orders.SupportMessage": _message,
    "orders.Attachment": _attachment, "usersessions.UserSession": _session, "shop.Cart": _cart,
    "shop.CartItem": _cart_item, "shop.BrowsingEvent": _viewed, "privacy.ConsentRecord": _consent,
    "privacy.MarketingSubscriber": _subscriber, "privacy.PrivacyRequest": _request, "privacy.ExportJob": _export,
    "privacy.Restriction": _restriction, "privacy.LegalHold": _hold, "privacy.AffectedPerson": _affected,
    "privacy.Disclosure": _disclosure,
    "privacy.PolicyAcknowledgement": lambda a: Record("You read a changed privacy policy", [("When", a.at)]),
    "account.EmailConfirmation": lambda c: Record("A link to confirm your email address", []),
}
ORDER_BY = {"orders.Order": "-created_at", "privacy.ConsentRecord": "-at", "privacy.Disclosure": "-at",
            "privacy.PrivacyRequest": "-received_at", "shop.BrowsingEvent": "-at", "privacy.ExportJob": "-created_at",
            "usersessions.UserSession": "-last_seen_at", "orders.SupportThread": "-updated_at"}


def _retention_words(rule: registry.Retention) -> str:
    days = rule.period.days
    if days == 0 or str(days) in rule.description or "year" in rule.description:
        return rule.description + "."
    span = f"{days // 365} year{'s' if days // 365 > 1 else ''}" if days % 365 == 0 else f"{days} days"
    return f"{rule.description} after {span}."


def _about(entries: list[registry.Entry]) -> About | None:
    if not entries:
        return None

    def unique(items):
        return list(dict.fromkeys(i for i in items if i))
    return About(
        purposes=unique(e.purpose.label for e in entries),
        bases=unique((e.legal_basis.label, BASIS_MEANS.get(e.legal_basis, "")) for e in entries),
        retention=unique(_retention_words(r) for e in entries for r in e.retention),
        kept=unique(e.keep_rows for e in entries),
        recipients=unique(PROCESSORS[r].name for e in entries for r in e.recipients if r in PROCESSORS),
        categories=unique(c.label for e in entries for c in e.categories()),
        descriptions=unique(e.description for e in entries),
    )


def _staff_what(label: str) -> str:
    entry = next((e for e in registry.entries() if e.label == label), None)
    if label == "person":
        return "All your data"
    if entry is None:
        return "Your records"
    return entry.description.split(":")[0].split(".")[0] if entry.description else "Your records"


def _staff_access(user) -> list[Record]:
    rows = (AccessLogEntry.objects.filter(subjects__user_id=user.pk).exclude(actor=user)
            .order_by("-at").distinct()[:SHOWN])
    return [Record(a.get_action_display(), [("When", a.at), ("Staff role", (a.actor_role or "staff").capitalize()),
                                            ("What", _staff_what(a.model_label))]) for a in rows]


def privacy_page(*, user) -> list[Section]:
    """The person's data in groups, newest first inside each, at most SHOWN records of a kind.
    Every registered model the person has rows in appears in some group."""
    by_label = {e.label: e for e in registry.entries()}
    grouped = {label for *_, labels in GROUPS for label in labels}
    groups = [*GROUPS, ("other", "Other records", "Everything else we hold about you.",
                        tuple(sorted(set(by_label) - grouped)))]
    built: dict[str, list[Record]] = {}
    counts: dict[str, int] = {}
    ids: dict[str, list] = {}
    parents: dict[str, dict] = {}
    for label in sorted(by_label, key=lambda label: label in NESTED):  # parents before their parts
        entry = by_label[label]
        if label in ("privacy.AccessLogEntry", "privacy.AccessLogSubject"):
            continue
        qs = selectors.subject_queryset(entry, user=user)
        if qs is None:
            continue
        if label in RELATED:
            qs = qs.select_related(*RELATED[label])
        parent = NESTED.get(label)
        if parent and parent[1] in ids:
            qs = qs.filter(**{f"{parent[0]}__in": ids[parent[1]]})
        else:
            qs = qs.order_by(ORDER_BY.get(label, "-pk"))[:SHOWN + 1] if not parent else qs
        rows = list(qs)
        build = BUILDERS.get(label) or _generic(entry)
        if parent and parent[1] in parents:
            for obj in rows:
                owner = parents[parent[1]].get(getattr(obj, parent[0]))
                if owner is not None:
                    owner.parts.append(build(obj))
            continue
        counts[label] = len(rows)
        rows = rows[:SHOWN]
        ids[label] = [o.pk for o in rows]
        records = [build(o) for o in rows]
        parents[label] = {o.pk: r for o, r in zip(rows, records, strict=True)}
        built[label] = records
    sections = []
    for key, title, intro, labels in groups:
        entries = [by_label[label] for label in labels if label in by_label]
        if key == "staff-access":
            records = _staff_access(user)
            total = len(records)
        else:
            records = [r for label in labels for r in built.get(label, [])]
            total = sum(counts.get(label, 0) for label in labels)
        if key == "other" and not records:
            continue
        sections.append(Section(key=key, title=title, intro=intro, records=records, about=_about(entries),
                                total=total, empty=EMPTY.get(key, "Nothing."), short=SHORT.get(key, title)))
    return sections


SHORT = {"account": "Account", "orders": "Orders", "addresses": "Addresses", "messages": "Messages",
         "sessions": "Signed-in browsers", "shopping": "Cart and products viewed", "consents": "Consents",
         "requests": "Requests", "recipients": "Recipients", "staff-access": "Staff access", "other": "Other"}
EMPTY = {"orders": "You have not ordered anything yet.", "addresses": "Your address book is empty.",
         "messages": "You have not written to us.", "sessions": "No browser is signed in.",
         "shopping": "Your cart is empty and we keep no browsing history.",
         "consents": "You have not given or refused any consent yet.", "requests": "You have made no requests.",
         "recipients": "Nobody yet.", "staff-access": "No staff member has opened your records."}


# --- deleting the account: what goes and what stays, in the person's words -------------------

NAMES = {
    "shop.User": "Your account: your name, email, phone and password",
    "account.EmailAddress": "Your email addresses", "account.EmailConfirmation": "Links we sent to confirm your email",
    "mfa.Authenticator": "Your two-factor authentication", "privacy.PolicyAcknowledgement":
    "When you read a changed privacy policy", "shop.Address": "Your address book",
    "orders.Order": "Your orders", "orders.OrderLine": "What you bought", "orders.Payment": "Your payments",
    "orders.ReturnRequest": "Your returns", "orders.SupportThread": "Your conversations with customer service",
    "orders.SupportMessage": "Your messages to customer service and our replies",
    "orders.Attachment": "Files you attached to messages", "usersessions.UserSession": "Where you are signed in",
    "sessions.Session": "Your sign-ins", "shop.Cart": "Your cart", "shop.CartItem": "What is in your cart",
    "shop.BrowsingEvent": "The products you looked at", "privacy.ConsentRecord": "Your consents",
    "privacy.MarketingSubscriber": "Your marketing email subscription", "privacy.PrivacyRequest":
    "Your privacy requests", "privacy.ExportJob": "Downloads of your data", "privacy.Restriction":
    "Your restriction of the use of your data", "privacy.LegalHold": "Legal holds on your records",
    "privacy.AffectedPerson": "Security incidents that concerned you", "privacy.Disclosure":
    "Our record of who received your data", "admin.LogEntry": "Your edits as a member of our staff",
}


@dataclass
class DeletionPlan:
    goes: list[str]
    stays: list[tuple[str, str]]  # (what, why)


def deletion_plan(*, user) -> DeletionPlan:
    """What deleting this person's account deletes, and what stays without them and why: only the
    kinds of record they have, from the registry (one cheap query per kind)."""
    goes, stays = [], []
    for entry in registry.entries():
        qs = selectors.subject_queryset(entry, user=user)
        if qs is None or not qs.exists():
            continue
        name = NAMES.get(entry.label) or entry.description or entry.verbose_name.capitalize()
        if entry.keep_rows:
            stays.append((name, entry.keep_rows))
        else:
            goes.append(name)
    order = list(NAMES)

    def rank(name: str) -> int:
        label = next((k for k, v in NAMES.items() if v == name), "")
        return order.index(label) if label else len(order)
    return DeletionPlan(goes=sorted(set(goes), key=rank), stays=sorted(stays, key=lambda s: rank(s[0])))
