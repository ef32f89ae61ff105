"""The access log: the one place that records staff use of personal data (P11, P30).

Each entry records who, when, what record, which fields, why and the request id, never the
values. Entries form a hash chain: an entry's hash covers its content and the previous
entry's hash; the chain head is locked while appending, so concurrent writers cannot fork
it. `audit_verify` recomputes the chain and names the first row that does not fit.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from typing import Iterable

from django.db import transaction

from privacy.models import AccessLogEntry, AccessLogSubject, AuditChainHead

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def staff_role(user) -> str:
    if user is None:
        return "system"
    if getattr(user, "is_superuser", False):
        return "Superuser"
    names = sorted(g.name for g in user.groups.all()) if getattr(user, "pk", None) else []
    return ", ".join(names) or ("Staff" if getattr(user, "is_staff", False) else "Customer")


def _digest(entry: AccessLogEntry) -> str:
    body = {
        "at": entry.at.isoformat(), "actor": entry.actor_id_snapshot, "role": entry.actor_role,
        "action": entry.action, "model": entry.model_label, "ids": [str(i) for i in entry.object_ids],
        "fields": list(entry.fields), "subjects": list(entry.subject_user_ids), "reason": entry.reason or "",
        "request": entry.request_id, "prev": entry.prev_hash,
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def audit_log(*, actor, action: str, model_label: str, object_ids: Iterable = (), fields: Iterable[str] = (),
              subject_user_ids: Iterable[int | None] = (), reason: str = "") -> AccessLogEntry:
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    entry = AccessLogEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_id_snapshot=getattr(actor, "pk", None), actor_role=staff_role(actor)[:60], action=action,
        model_label=model_label, object_ids=[str(i) for i in object_ids][:500], fields=sorted(set(fields)),
        subject_user_ids=sorted({i for i in subject_user_ids if i}), reason=reason[:300],
        request_id=request_id_var.get(), prev_hash=head.last_hash,
    )
    entry.at = entry.at.replace(microsecond=(entry.at.microsecond // 1000) * 1000)  # same on every database
    entry.hash = _digest(entry)
    entry.save()
    AccessLogSubject.objects.bulk_create(AccessLogSubject(entry=entry, user_id=i) for i in entry.subject_user_ids)
    head.last_hash = entry.hash
    head.save(update_fields=["last_hash"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        return f"entry #{self.entry_id}: {self.message}" if self.entry_id else self.message


def audit_verify(*, batch_size: int = 5000) -> list[ChainProblem]:
    """Recompute the chain from its anchor; return every problem found (empty: intact)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        exists = AccessLogEntry.objects.exists()
        return [ChainProblem(None, "entries exist but the chain head is missing")] if exists else []
    problems: list[ChainProblem] = []
    expected_prev = head.anchor_hash
    last_id = head.anchor_id
    seen_last = head.anchor_hash
    while True:
        batch = list(AccessLogEntry.objects.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != expected_prev:
                problems.append(ChainProblem(entry.pk, "does not follow the previous entry "
                                                       "(an entry before it was deleted or changed)"))
            if _digest(entry) != entry.hash:
                problems.append(ChainProblem(entry.pk, "its content was changed after it was written"))
            expected_prev = entry.hash
            seen_last = entry.hash
            last_id = entry.pk
    if seen_last != head.last_hash:
        problems.append(ChainProblem(None, "the newest entries were deleted (the chain head does not match)"))
    return problems
