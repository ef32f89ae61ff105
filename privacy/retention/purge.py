"""Retention: keep data only as long as it serves its purpose (P13, P28).

The rules come from the registry (each model's `retention`), with periods overridable in
settings.PRIVACY_RETENTION_DAYS, plus three rules that need more than a delete or an update:
inactive accounts (warned by email, then erased like a deletion request), unverified sign-ups,
and the access log (whose hash chain gets a new anchor).

The purge works in batches of ids, one short transaction per batch, so no lock on the orders
table lasts long enough to block checkout. Every batch only touches rows that still match
the rule (anonymised rows no longer do; deleted rows are gone), so a purge killed half-way
resumes without double work. A lease row makes sure two purges never run at once. Restriction
and legal holds (open return, payment dispute, open privacy request) postpone a record, and
every postponement is written down for staff. Each run records counts, duration and errors,
never values.
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from privacy.models import (
    AccessLogEntry,
    AccessLogSubject,
    AuditChainHead,
    PurgeLock,
    PurgePostponement,
    PurgeRun,
    Restriction,
)
from privacy.processors.disclosure import send_personal_email
from privacy.protection import sealing
from privacy.protection.rows import rows_update
from privacy.registry import declarations as registry
from privacy.registry.hooks import LEGAL_HOLD_KEYS, retention_holds
from privacy.rights.erasure import ErasureBlocked, anonymise_rows, erase_subject

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_POSTPONEMENTS_LISTED = 1000
INACTIVE_AFTER = timedelta(days=730)
INACTIVE_NOTICE = timedelta(days=30)
UNVERIFIED_AFTER = timedelta(days=14)
ACCESS_LOG_KEEP = timedelta(days=730)


class Interrupted(Exception):
    """Raised by tests (stop_after_batches) to simulate a crash mid-run."""


# --- holds: what postpones deletion ------------------------------------------------------

def hold_filters(entry: registry.Entry, holds: tuple[str, ...]) -> dict[str, Q]:
    """The rule's holds that concern this model, by their label, from what the apps declared
    (privacy.registry.hooks; privacy's own in privacy.retention.holds). Legal holds postpone
    every rule, listed or not."""
    declared = retention_holds()
    found: dict[str, Q] = {}
    for key in dict.fromkeys((*holds, *LEGAL_HOLD_KEYS)):
        hold = declared.get(key)
        condition = hold.condition(entry.model) if hold is not None else None
        if condition is not None:
            found[hold.label] = found[hold.label] | condition if hold.label in found else condition
    return found


# --- the rules: one list drives the run, the dry run and the display -----------------------

class Rule(Protocol):
    key: str  # also the settings.PRIVACY_RETENTION_DAYS key and the key of the run's counts
    model: str  # what it keeps, for people ("user", "order")
    description: str
    then: str  # "deleted", "anonymised", "erased"

    @property
    def period(self) -> timedelta: ...

    def run(self, purger: "Purger") -> None:
        """Apply the rule, or in a dry run only count; either way record in purger.run.counts[key]."""


@dataclass(frozen=True)
class DeclaredRule:
    """A rule an app declared on its model in personal_data.py."""

    entry: registry.Entry
    retention: registry.Retention

    key = property(lambda self: self.retention.setting)
    model = property(lambda self: self.entry.verbose_name)
    description = property(lambda self: self.retention.description)
    then = property(lambda self: self.retention.then.label)
    period = property(lambda self: self.retention.period)

    def run(self, purger: "Purger") -> None:
        purger.registry_rule(self.entry, self.retention)


@dataclass(frozen=True)
class HandRule:
    """A rule that needs more than a delete or an update (a warning first, a hash chain)."""

    key: str
    model: str
    description: str
    then: str
    default: timedelta
    apply: Callable[["Purger"], None]

    @property
    def period(self) -> timedelta:
        return registry.retention_period(self.key, self.default)

    def run(self, purger: "Purger") -> None:
        self.apply(purger)


@dataclass(frozen=True)
class DecayRule:
    """A decay step an app declared on its model: a field fades (removed, shortened) or the row
    goes, before the model's retention erases the rest."""

    entry: registry.Entry
    step: registry.Decay

    key = property(lambda self: self.step.setting)
    model = property(lambda self: self.entry.verbose_name)
    description = property(lambda self: self.step.description)
    then = property(lambda self: self.step.action.label)
    period = property(lambda self: self.step.period)

    def run(self, purger: "Purger") -> None:
        purger.decay_step(self.entry, self.step)


def rules() -> list[Rule]:
    declared: list[Rule] = [DeclaredRule(entry, rule) for entry in registry.entries() for rule in entry.retention]
    declared += [DecayRule(entry, step) for entry in registry.entries() for step in entry.decay]
    return declared + [
        HandRule("accounts.unverified", "user", "Sign-ups whose email was never verified are deleted", "deleted",
                 UNVERIFIED_AFTER, lambda purger: purger.unverified_accounts()),
        HandRule("accounts.inactive", "user",
                 "Accounts unused this long are erased, after an email warning 30 days before", "erased",
                 INACTIVE_AFTER, lambda purger: purger.inactive_accounts()),
        HandRule("audit.entries", "access log entry",
                 "Staff access records are kept for accountability, then deleted", "deleted",
                 ACCESS_LOG_KEEP, lambda purger: purger.access_log()),
    ]


# --- the run -----------------------------------------------------------------------------

class Purger:
    def __init__(self, *, run: PurgeRun, now: datetime, dry_run: bool, batch_size: int,
                 stop_after_batches: int | None, lease_holder: str):
        self.run, self.now, self.dry_run, self.batch_size = run, now, dry_run, batch_size
        self.stop_after_batches, self.batches, self.holder = stop_after_batches, 0, lease_holder

    def _tick(self) -> None:
        self.batches += 1
        PurgeLock.objects.filter(pk=1, holder=self.holder).update(expires_at=timezone.now() + LEASE)
        if self.stop_after_batches is not None and self.batches >= self.stop_after_batches:
            raise Interrupted

    def _record(self, key: str, action: str, count: int, postponed: dict[str, int]) -> None:
        self.run.counts[key] = {"action": action, "count": count, "postponed": postponed}

    def _postpone(self, key: str, entry: registry.Entry, qs, holds: dict[str, Q]) -> dict[str, int]:
        counts = {}
        for reason, q in holds.items():
            held = qs.filter(q)
            counts[reason] = held.count()
            if counts[reason] and not self.dry_run:
                PurgePostponement.objects.bulk_create(
                    PurgePostponement(run=self.run, rule=key, model_label=entry.label, object_id=str(pk), reason=reason)
                    for pk in held.values_list("pk", flat=True)[:MAX_POSTPONEMENTS_LISTED])
        return {r: n for r, n in counts.items() if n}

    def registry_rule(self, entry: registry.Entry, rule: registry.Retention) -> None:
        period = rule.period
        model = entry.model
        base = model._base_manager.filter(rule.applies, **{f"{rule.after}__lte": self.now - period})
        holds = hold_filters(entry, rule.holds)
        candidates = base
        for q in holds.values():
            candidates = candidates.exclude(q)
        postponed = self._postpone(rule.setting, entry, base, holds)
        action = "delete" if isinstance(rule.then, registry.Delete) else "anonymise"
        if self.dry_run:
            self._record(rule.setting, action, candidates.count(), postponed)
            return
        done, last = 0, None
        while True:
            # Keyset pagination: each batch starts after the last one, so a long backlog costs a
            # constant amount per batch (re-reading from the start made 1M orders quadratic).
            page = candidates if last is None else candidates.filter(pk__gt=last)
            ids = list(page.order_by("pk").values_list("pk", flat=True)[:self.batch_size])
            if not ids:
                break
            last = ids[-1]
            with transaction.atomic():
                # Re-check the rule inside the transaction: a hold placed since the ids were
                # read (a return, a dispute) wins.
                batch = candidates.filter(pk__in=ids)
                if action == "delete":
                    if entry.before_delete:
                        entry.before_delete(ids)
                    batch.delete()
                else:
                    anonymise_rows(entry, batch)
            done += len(ids)
            self._record(rule.setting, action, done, postponed)
            self._tick()
        self._record(rule.setting, action, done, postponed)

    def decay_step(self, entry: registry.Entry, step: registry.Decay) -> None:
        """Apply one decay step in batches. Values are read and written through the ORM (the fields
        are encrypted, so the database cannot shorten them); a row is written only when the step
        changes it, so a resumed or repeated run does nothing twice and the counts say what changed."""
        model = entry.model
        base = model._base_manager.filter(step.when, **{f"{step.after}__lte": self.now - step.period})
        holds = hold_filters(entry, step.holds)
        candidates = base
        for q in holds.values():
            candidates = candidates.exclude(q)
        postponed = self._postpone(step.setting, entry, base, holds)
        action = "delete" if isinstance(step.action, registry.Drop) else step.action.label
        if isinstance(step.action, registry.Drop):
            if self.dry_run:
                self._record(step.setting, action, candidates.count(), postponed)
                return
            done = 0
            while ids := list(candidates.order_by("pk").values_list("pk", flat=True)[:self.batch_size]):
                with transaction.atomic():
                    if entry.before_delete:
                        entry.before_delete(ids)
                    candidates.filter(pk__in=ids).delete()
                done += len(ids)
                self._record(step.setting, action, done, postponed)
                self._tick()
            self._record(step.setting, action, done, postponed)
            return
        done, last = 0, None
        while True:
            page = candidates if last is None else candidates.filter(pk__gt=last)
            ids = list(page.order_by("pk").values_list("pk", flat=True)[:self.batch_size])
            if not ids:
                break
            last = ids[-1]
            with transaction.atomic():
                # Re-read inside the transaction, locked: a hold placed since the ids were read wins,
                # and a checkout or staff edit cannot interleave with the rewrite.
                rows = list(candidates.filter(pk__in=ids).select_for_update(of=("self",)).only("pk", *step.fields))
                changed = [row for row in rows if _fade(row, step)]
                if changed and not self.dry_run:
                    rows_update(model, changed, step.fields)
            done += len(changed)
            self._record(step.setting, action, done, postponed)
            if not self.dry_run:
                self._tick()
        self._record(step.setting, action, done, postponed)

    def inactive_accounts(self) -> None:
        """Warn 30 days ahead, then erase accounts unused for 24 months (like a deletion request)."""
        User = get_user_model()
        limit = registry.retention_period("accounts.inactive", INACTIVE_AFTER)
        notice = INACTIVE_NOTICE
        users = User.objects.filter(is_staff=False).annotate(seen=Coalesce("last_login", "date_joined"))
        restricted = Exists(Restriction.objects.filter(user_id=OuterRef("pk"), lifted_at__isnull=True))
        to_warn = users.filter(seen__lt=self.now - (limit - notice)).filter(
            Q(inactivity_warned_at__isnull=True) | Q(inactivity_warned_at__lt=F("seen")))
        due = users.filter(seen__lt=self.now - limit, inactivity_warned_at__lte=self.now - notice,
                           inactivity_warned_at__gt=F("seen"))
        held = due.filter(restricted)
        if self.dry_run:
            self.run.counts["accounts.inactive"] = {"action": "erase", "count": due.exclude(restricted).count(),
                                                    "warn": to_warn.count(), "postponed": {"restriction": held.count()}
                                                    if held.exists() else {}}
            return
        warned = 0
        for user in to_warn.only("pk", "email")[:5000]:
            send_personal_email(
                to=user.email, subject="Your Privacy-first Shop account will be deleted",
                text="You have not signed in for almost two years. We keep accounts only while they are used: "
                f"sign in within {notice.days} days to keep yours; otherwise we delete it and your "
                "personal data. Orders stay in our accounts without your details.\n— Privacy-first Shop",
                fields=["user.email"], subject_user_id=user.pk, reference="inactive account warning")
            User.objects.filter(pk=user.pk).update(inactivity_warned_at=self.now)
            warned += 1
        erased, postponed = 0, {}
        for user in due.exclude(restricted)[:1000]:
            try:
                erase_subject(user=user)
                erased += 1
            except ErasureBlocked:
                postponed["open order or return"] = postponed.get("open order or return", 0) + 1
                PurgePostponement.objects.create(run=self.run, rule="accounts.inactive", model_label="shop.User",
                                                 object_id=str(user.pk), reason="open order or return")
            self._tick()
        if held.exists():
            postponed["restriction"] = held.count()
        self.run.counts["accounts.inactive"] = {"action": "erase", "count": erased, "warn": warned,
                                                "postponed": postponed}

    def unverified_accounts(self) -> None:
        """Sign-ups never verified are deleted after 14 days (they cannot be used)."""
        User = get_user_model()
        verified = EmailAddress.objects.filter(user_id=OuterRef("pk"), verified=True)
        qs = User.objects.filter(is_staff=False, last_login__isnull=True,
                                 date_joined__lt=self.now - registry.retention_period("accounts.unverified", UNVERIFIED_AFTER)) \
            .exclude(Exists(verified))
        if self.dry_run:
            self.run.counts["accounts.unverified"] = {"action": "delete", "count": qs.count(), "postponed": {}}
            return
        done = 0
        while ids := list(qs.values_list("pk", flat=True)[:self.batch_size]):
            with transaction.atomic():
                User.objects.filter(pk__in=ids).delete()
            done += len(ids)
            self._tick()
        self.run.counts["accounts.unverified"] = {"action": "delete", "count": done, "postponed": {}}

    def access_log(self) -> None:
        """Entries past their legal period leave from the oldest end; the chain's anchor moves
        to the last removed entry so `audit_verify` still checks everything that remains."""
        cutoff = self.now - registry.retention_period("audit.entries", ACCESS_LOG_KEEP)
        old = AccessLogEntry.objects.filter(at__lt=cutoff).order_by("pk")
        if self.dry_run:
            self.run.counts["audit.entries"] = {"action": "delete", "count": old.count(), "postponed": {}}
            return
        done = 0
        while True:
            batch = list(old.values_list("pk", "hash")[:self.batch_size])
            if not batch:
                break
            last_id, last_hash = batch[-1]
            with transaction.atomic():
                head = AuditChainHead.objects.select_for_update().get(pk=1)
                AccessLogSubject.objects.filter(entry_id__lte=last_id).delete()
                AccessLogEntry.objects.filter(pk__lte=last_id)._purge()
                head.anchor_id, head.anchor_hash = last_id, last_hash
                head.save(update_fields=["anchor_id", "anchor_hash"])
            done += len(batch)
            self._tick()
        self.run.counts["audit.entries"] = {"action": "delete", "count": done, "postponed": {}}


def _fade(row, step: registry.Decay) -> bool:
    """Set the step's fields of `row` to their faded values; True when any value changed."""
    changed = False
    for name in step.fields:
        before = getattr(row, name)
        if isinstance(before, sealing.Unreadable):
            continue  # its key is gone (erased) or out of reach: nothing to shorten, nothing to write
        after = step.apply(before)
        if after != before:
            setattr(row, name, sealing.under_same_key(before, after))
            changed = True
    return changed


def _acquire(holder: str) -> bool:
    now = timezone.now()
    PurgeLock.objects.get_or_create(pk=1)
    return bool(PurgeLock.objects.filter(pk=1).filter(Q(expires_at__lt=now) | Q(holder="")).update(
        holder=holder, expires_at=now + LEASE))


def _release(holder: str) -> None:
    PurgeLock.objects.filter(pk=1, holder=holder).update(holder="", expires_at=timezone.now())


def purge(*, now: datetime | None = None, dry_run: bool = False, batch_size: int = 1000,
          stop_after_batches: int | None = None) -> PurgeRun:
    now = now or timezone.now()
    holder = secrets.token_hex(8)
    if not dry_run and not _acquire(holder):
        return PurgeRun.objects.create(dry_run=False, status="skipped", finished_at=timezone.now(),
                                       errors=["another purge is running"])
    run = PurgeRun.objects.create(dry_run=dry_run)
    started = time.monotonic()
    purger = Purger(run=run, now=now, dry_run=dry_run, batch_size=batch_size,
                    stop_after_batches=stop_after_batches, lease_holder=holder)
    try:
        for rule in rules():
            try:
                rule.run(purger)
            except Interrupted:
                raise
            except Exception as exc:  # one rule failing must not stop the others
                log.exception("retention rule %s failed", rule.key)
                run.errors.append(f"{rule.key}: {type(exc).__name__}")
        run.status = "failed" if run.errors else "finished"
    except Interrupted:
        run.status = "failed"
        run.errors.append("interrupted")
        raise
    finally:
        run.finished_at = timezone.now()
        run.seconds = round(time.monotonic() - started, 3)
        run.save()
        if not dry_run:
            _release(holder)
    return run


def rules_for_display() -> list[dict]:
    """Every rule and decay step with its current period, for the policy page and the README: the
    same list the purge runs. `trigger` says what a decay step's period counts from."""
    return [{"model": rule.model, "key": rule.key, "description": rule.description, "days": rule.period.days,
             "then": rule.then, "trigger": rule.step.trigger.label if isinstance(rule, DecayRule) else ""}
            for rule in rules()]
