"""The personal-data registry: every model says once what personal data it holds, whose it
is, why, on what legal basis, how it is erased, how long it is kept and how staff see it.

Export, erasure, retention, admin masking, the policy's "what we collect" table and the
record of processing all read this registry; none keeps a field list of its own. A system
check (privacy.registry.checks) fails when a model or a text-like field is left unclassified, so no
new model can slip past privacy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q

from .taxonomy import DataCategory, LegalBasis, ProcessingPurpose

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
             before_delete: Callable[[list], None] | None = None) -> Entry:
    entry = Entry(model=model, subject=subject, fields=dict(fields), purpose=purpose, legal_basis=legal_basis,
                  plain=frozenset(plain), guest_index=guest_index, retention=tuple(retention),
                  recipients=tuple(recipients), description=description, category=category, keep_rows=keep_rows,
                  before_delete=before_delete)
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
