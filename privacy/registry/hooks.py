"""What the owning apps tell privacy about their own models, so privacy never imports them.

An app declares in its own personal_data.py what makes a person's erasure wait (an open order),
what postpones retention of some rows (a legal hold, an open return), what else must happen
when a person is erased (telling a payment provider) and what goes when a consent is withdrawn
(browsing history, when personalisation is turned off). Erasure and retention ask these
declarations; they hold no list of models, statuses or fields of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class ErasureBlocker:
    """While `exists(user=..., guest_index=...)` is true, the person's erasure waits.
    `reason` is shown to the person and to staff ("an order is still being delivered")."""

    key: str
    reason: str
    exists: Callable[..., bool]  # keyword-only: user (or None) and guest_index ("" for a user)


@dataclass(frozen=True)
class RetentionHold:
    """Rows of a model for which `condition(model)` is true are postponed by every retention rule
    that names `key` in its holds. `condition` returns None for models the hold does not concern."""

    key: str
    label: str  # recorded per postponement ("open return")
    condition: Callable[[type[models.Model]], Q | None]


@dataclass(frozen=True)
class ErasureHook:
    """Runs after a person's rows are erased, inside the same transaction; it queues outside work
    (e.g. a processor's deletion) with transaction.on_commit and returns a line for the report."""

    key: str
    run: Callable[..., str | None]  # keyword-only: user (or None), guest_index, requested_by


@dataclass(frozen=True)
class WithdrawalHook:
    """Runs when a person withdraws consent for `purpose`, in the transaction that records it:
    what the purpose alone justified goes with it (browsing history when personalisation is off)."""

    purpose: str
    run: Callable[..., None]  # keyword-only: user


@dataclass(frozen=True)
class HoldTarget:
    """A kind of record (an order) that a legal hold can name, declared by the app that owns it.
    `find(reference)` returns (the record's id, its person's user id or None), or None when no
    such record exists; `covers` says in plain words what the hold keeps ("its payments and lines")."""

    key: str
    model: type[models.Model]
    find: Callable[[str], tuple[int, int | None] | None]
    covers: str


# The holds every retention rule and every erasure respects, whatever the rule lists: a legal hold
# on one record ("legal_hold", declared by the record's app) and on a person ("legal_hold_person").
LEGAL_HOLD_KEYS = ("legal_hold", "legal_hold_person")

@dataclass
class PartialOutcome:
    """What a partial erasure deletes (or would delete) of one kind: the ids per model label
    (row ids, never values), and what stays and why, in plain words for the person."""

    deleted: dict[str, list] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.deleted.values())


@dataclass(frozen=True)
class PartialErasure:
    """One kind of data a person can delete without closing the account, declared by the app that
    owns its rows. `run(user=..., apply=..., keep_session_key=...)` returns a PartialOutcome; with
    apply=False it only counts (the confirmation page), with apply=True it deletes, in the caller's
    transaction. It must touch only `user`'s rows."""

    kind: str
    label: str  # "Saved addresses"
    explains: str  # what goes and what stays, shown before the person confirms
    run: Callable[..., PartialOutcome]


_blockers: dict[str, ErasureBlocker] = {}
_targets: dict[str, HoldTarget] = {}
_holds: dict[str, RetentionHold] = {}
_hooks: dict[str, ErasureHook] = {}
_withdrawals: dict[str, list[WithdrawalHook]] = {}
_partials: dict[str, PartialErasure] = {}


def block_erasure(key: str, *, reason: str, exists: Callable[..., bool]) -> ErasureBlocker:
    _blockers[key] = ErasureBlocker(key, reason, exists)
    return _blockers[key]


def hold_retention(key: str, *, label: str, condition: Callable[[type[models.Model]], Q | None]) -> RetentionHold:
    _holds[key] = RetentionHold(key, label, condition)
    return _holds[key]


def hold_target(key: str, *, model: type[models.Model], find: Callable[[str], tuple[int, int | None] | None],
                covers: str) -> HoldTarget:
    _targets[key] = HoldTarget(key, model, find, covers)
    return _targets[key]


def hold_targets() -> dict[str, HoldTarget]:
    return dict(_targets)


def legal_hold_condition(model: type[models.Model]) -> Q | None:
    """Rows of `model` under any active legal hold (None: no legal hold can cover this model)."""
    found = [c for key in LEGAL_HOLD_KEYS if (h := _holds.get(key)) is not None and (c := h.condition(model)) is not None]
    if not found:
        return None
    q = found[0]
    for c in found[1:]:
        q |= c
    return q


def on_erasure(key: str, run: Callable[..., str | None]) -> ErasureHook:
    _hooks[key] = ErasureHook(key, run)
    return _hooks[key]


def erasure_blockers() -> list[ErasureBlocker]:
    return list(_blockers.values())


def retention_holds() -> dict[str, RetentionHold]:
    return dict(_holds)


def erasure_hooks() -> list[ErasureHook]:
    return list(_hooks.values())


def on_withdrawal(purpose: str, run: Callable[..., None]) -> WithdrawalHook:
    hook = WithdrawalHook(purpose, run)
    _withdrawals[purpose] = [*(h for h in _withdrawals.get(purpose, []) if h.run is not run), hook]
    return hook


def withdrawal_hooks(purpose: str) -> list[WithdrawalHook]:
    return list(_withdrawals.get(purpose, []))


# Where a person lives, as the app holding their address knows it ("FR", "US-CA"; "" unknown):
# the request clock (privacy.rights.clocks) follows it when the person did not say.
_residence: dict[str, Callable[..., str]] = {}


def residence_from(key: str, find: Callable[..., str]) -> None:
    """`find(user=...)` returns the person's country (ISO code, "US-CA" for California) or ""."""
    _residence[key] = find


def residence_of(*, user) -> str:
    if user is None:
        return ""
    for find in _residence.values():
        if found := find(user=user):
            return found
    return ""
def on_partial_erasure(kind: str, *, label: str, explains: str, run: Callable[..., PartialOutcome]) -> PartialErasure:
    _partials[kind] = PartialErasure(kind, label, explains, run)
    return _partials[kind]


def partial_erasures() -> dict[str, PartialErasure]:
    return dict(_partials)
