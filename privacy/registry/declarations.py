"""The personal-data registry: every model says once what personal data it holds, whose it
is, why, on what legal basis, how it is erased, how long it is kept and how staff see it.

Export, erasure, retention, admin masking, the policy's "what we collect" table and the
record of processing all read this registry; none keeps a field list of its own. A system
check (privacy.registry.checks) fails when a model or a text-like field is left unclassified, so no
new model can slip past privacy.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q

from .taxonomy import DataCategory, DecayTrigger, LegalBasis, ProcessingPurpose

# --- erasure strategies ---------------------------------------------------------------

@dataclass(frozen=True)
class Delete:
    """The whole row goes."""

    label = "deleted"


@dataclass(frozen=True)
class Anonymise:
    """The value is replaced (default: empty); the row stays for traceability."""

    replacement: object = ""
    label = "anonymised"


@dataclass(frozen=True)
class Keep:
    """Kept after erasure, for the stated reason (e.g. proof of consent)."""

    reason: str
    label = "kept"


Erasure = Delete | Anonymise | Keep


@dataclass(frozen=True)
class Personal:
    """One personal field. `encrypted=False` must say why (only the login email may be clear)."""

    category: DataCategory
    erase: Erasure = Anonymise()
    mask: Callable[[object], str] | None = None  # None: the admin's default mask for text
    purpose: ProcessingPurpose | None = None  # defaults to the model's
    export: bool = True
    plaintext_reason: str = ""


@dataclass(frozen=True)
class Retention:
    """Rows matching `applies` are erased (`then`) once `after` is older than `keep_for`.

    `setting` names the key in settings.PRIVACY_RETENTION_DAYS that overrides the period."""

    setting: str
    after: str
    keep_for: timedelta
    then: Delete | Anonymise
    description: str
    applies: Q = field(default_factory=Q)
    holds: tuple[str, ...] = ()  # what postpones it: "restriction", "open_request", "open_return", "legal_hold"

    @property
    def period(self) -> timedelta:
        return retention_period(self.setting, self.keep_for)


def retention_period(key: str, default: timedelta) -> timedelta:
    """How long rule `key` keeps its rows: settings.PRIVACY_RETENTION_DAYS[key] days, else `default`."""
    days = getattr(settings, "PRIVACY_RETENTION_DAYS", {}).get(key)
    return timedelta(days=days) if days is not None else default


# --- decay: a field fades in steps before the row is erased (P1, P13, P28) -----------------

@dataclass(frozen=True)
class Remove:
    """The field is emptied (blank; None for a nullable field)."""

    label = "removed"


@dataclass(frozen=True)
class Truncate:
    """The field keeps only a coarser part of itself; `shorten` must be idempotent (a value already
    shortened stays as it is), so a purge that resumes or runs again changes nothing twice."""

    shorten: Callable[[str], str]
    what: str = "shortened"  # for people: "shortened to its outward part"

    @property
    def label(self) -> str:
        return self.what


@dataclass(frozen=True)
class Drop:
    """The whole row goes (the step names the fields it ends)."""

    label = "deleted"


DecayAction = Remove | Truncate | Drop


@dataclass(frozen=True)
class Decay:
    """One step of a field's fading: rows matching `when` whose `after` date is older than `age`
    get `action` on `fields` (for Drop: the row goes). `trigger` says in plain words what the date
    is ("the return window closed"); `setting` keys the run's counts and, like a retention rule,
    settings.PRIVACY_RETENTION_DAYS may override the age. `holds` postpone it like a retention
    rule's; legal holds always do. `item` names the thing for the person ("phone number")."""

    setting: str
    fields: tuple[str, ...]
    action: DecayAction
    after: str
    age: timedelta
    trigger: DecayTrigger
    item: str
    description: str
    when: Q = field(default_factory=Q)
    holds: tuple[str, ...] = ()

    @property
    def period(self) -> timedelta:
        return retention_period(self.setting, self.age)

    def apply(self, value):
        """The field's value after this step (Remove: empty; Truncate: the coarser part)."""
        if isinstance(self.action, Truncate):
            return self.action.shorten(value) if value else value
        return None if value is None else ""


# --- ready-made shortenings (each idempotent) ---------------------------------------------

def outward_postcode(value: str) -> str:
    """A UK-style postcode keeps its outward part ("SW1A 1AA" -> "SW1A"); a code written in two
    parts keeps its first; any other code longer than four characters keeps its first three
    ("75008" -> "750", "12345-6789" -> "123"). Four characters or fewer are kept as they are, so a
    shortened code is never shortened again."""
    value = (value or "").strip().upper()
    if " " in value:
        value = value.split()[0]
    compact = value.replace("-", "")
    if len(compact) <= 4:
        return compact
    if compact[-3].isdigit() and compact[-2:].isalpha() and not compact.isdigit():  # "SW1A1AA", "M11AE"
        return compact[:-3]
    return compact[:3]


def network_prefix(v4_bits: int, v6_bits: int) -> Callable[[str], str]:
    """A network address cut to its first `v4_bits` / `v6_bits` (0: "0.0.0.0" / "::", the
    unspecified address, for a column that cannot be empty)."""
    def shorten(value: str) -> str:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return "0.0.0.0"
        bits = v4_bits if address.version == 4 else v6_bits
        return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)

    return shorten


@dataclass
class Entry:
    model: type[models.Model]
    subject: str  # path from this model to the user ("self", "user", "order__user")
    fields: dict[str, Personal]
    purpose: ProcessingPurpose
    legal_basis: LegalBasis
    plain: frozenset[str] = frozenset()  # text-like fields that are not personal, on purpose
    guest_index: str = ""  # field holding the blind index of a guest's email, if any
    retention: tuple[Retention, ...] = ()
    recipients: tuple[str, ...] = ()  # processor keys (privacy.processors.disclosure)
    description: str = ""
    category: DataCategory | None = None  # for rows that are personal by who they belong to
    keep_rows: str = ""  # on erasure: why rows stay (fields anonymised); empty: rows are deleted
    before_delete: Callable[[list], None] | None = None  # e.g. remove files of rows about to be deleted
    decay: tuple[Decay, ...] = ()  # steps by which fields fade before the row is erased

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    def categories(self) -> list[DataCategory]:
        found = {p.category for p in self.fields.values()} | ({self.category} if self.category else set())
        return sorted(found, key=list(DataCategory).index)

    def field_purpose(self, name: str) -> ProcessingPurpose:
        return self.fields[name].purpose or self.purpose


@dataclass(frozen=True)
class NotPersonal:
    model: type[models.Model]
    reason: str


_entries: dict[type[models.Model], Entry] = {}
_not_personal: dict[type[models.Model], NotPersonal] = {}


def register(model: type[models.Model], *, subject: str, fields: dict[str, Personal], purpose: ProcessingPurpose,
             legal_basis: LegalBasis, plain: tuple[str, ...] | list[str] = (), guest_index: str = "",
             retention: tuple[Retention, ...] | list[Retention] = (), recipients: tuple[str, ...] = (),
             description: str = "", category: DataCategory | None = None, keep_rows: str = "",
             before_delete: Callable[[list], None] | None = None,
             decay: tuple[Decay, ...] | list[Decay] = ()) -> Entry:
    entry = Entry(model=model, subject=subject, fields=dict(fields), purpose=purpose, legal_basis=legal_basis,
                  plain=frozenset(plain), guest_index=guest_index, retention=tuple(retention),
                  recipients=tuple(recipients), description=description, category=category, keep_rows=keep_rows,
                  before_delete=before_delete, decay=tuple(decay))
    _entries[model] = entry
    _not_personal.pop(model, None)
    return entry


def not_personal(*models_: type[models.Model], reason: str) -> None:
    for model in models_:
        _not_personal[model] = NotPersonal(model, reason)
        _entries.pop(model, None)


def unregister(model: type[models.Model]) -> None:
    """For tests that declare throw-away models."""
    _entries.pop(model, None)
    _not_personal.pop(model, None)


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: e.label)


def entry_for(model: type[models.Model]) -> Entry | None:
    return _entries.get(model._meta.concrete_model)


def non_personal() -> list[NotPersonal]:
    return sorted(_not_personal.values(), key=lambda n: n.model._meta.label)


def is_classified(model: type[models.Model]) -> bool:
    model = model._meta.concrete_model
    return model in _entries or model in _not_personal


def encrypted_at_rest(field: models.Field) -> bool:
    """Whether a field's column holds only ciphertext: django-cryptography's encrypted fields, or
    a field that says so of itself (`encrypts_at_rest`, the sealed sign-in email)."""
    from django_cryptography.fields import EncryptedMixin

    return isinstance(field, EncryptedMixin) or bool(getattr(field, "encrypts_at_rest", False))
