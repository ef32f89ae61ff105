"""Replay erasures on a restored copy of the shop's database (P13).

A backup restored after some erasures brings their rows back, though their values no longer
open: the people's data keys were destroyed and only tombstones are left in the key store.
`replay_erasures` applies every tombstone to the restored database: an account is erased
through erase_subject, exactly as the first time; a guest's rows (found by the blind index
the tombstone names) are anonymised or deleted as the registry says, which clears their blind
indexes. Idempotent: a second run finds nothing left to change. Batched by primary key.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from privacy.protection import keystore
from privacy.registry import declarations as registry
from privacy.rights.erasure import anonymise_rows, erase_subject

BATCH = 1000


@dataclass
class ReplayReport:
    tombstones: int = 0
    accounts: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def _guest_rows(index: str, report: ReplayReport) -> None:
    """As erase_subject does: find every row first (rows found through an order must be found
    before the order is anonymised and loses its blind index), then change them in batches."""
    found = []
    for entry in sorted(registry.entries(), key=lambda e: e.label):
        if entry.guest_index:
            pks = list(entry.model._base_manager.filter(**{entry.guest_index: index})
                       .order_by("pk").values_list("pk", flat=True))
            if pks:
                found.append((entry, pks))
    for entry, pks in found:
        for start in range(0, len(pks), BATCH):
            chunk = pks[start:start + BATCH]
            with transaction.atomic():
                qs = entry.model._base_manager.filter(pk__in=chunk)
                if entry.keep_rows:
                    count = anonymise_rows(entry, qs)
                else:
                    if entry.before_delete:
                        entry.before_delete(chunk)
                    count = qs.delete()[0]
            report.rows[entry.label] = report.rows.get(entry.label, 0) + count


def replay_erasures() -> ReplayReport:
    """Apply every tombstone of the key store to this database; see the module's docstring."""
    report = ReplayReport()
    User = get_user_model()
    for subject, _erased_at in keystore.tombstones():
        report.tombstones += 1
        kind, _, ref = subject.partition(":")
        if kind == "user" and ref.isdigit():
            user = User._base_manager.filter(pk=int(ref)).first()
            if user is not None:
                found = erase_subject(user=user, force=True)
                report.accounts += 1
                for label, count in {**found.deleted, **found.anonymised}.items():
                    report.rows[label] = report.rows.get(label, 0) + count
        elif kind == "guest" and ref:
            _guest_rows(ref, report)
    return report
