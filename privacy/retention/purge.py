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

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from privacy.registry import declarations as registry
from privacy.models import AccessLogEntry, AuditChainHead, PrivacyRequest, PurgeLock, PurgePostponement, PurgeRun, Restriction

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_POSTPONEMENTS_LISTED = 1000
INACTIVE_AFTER = timedelta(days=730)
INACTIVE_NOTICE = timedelta(days=30)
UNVERIFIED_AFTER = timedelta(days=14)
ACCESS_LOG_KEEP = timedelta(days=730)


class Interrupted(Exception):
    """Raised by tests (stop_after_batches) to simulate a crash mid-run."""


def _period(key: str, default: timedelta) -> timedelta:
    days = getattr(settings, "PRIVACY_RETENTION_DAYS", {}).get(key)
    return timedelta(days=days) if days is not None else default


# --- holds: what postpones deletion ------------------------------------------------------

def _subject_id(entry: registry.Entry) -> str | None:
    if entry.subject == "self":
        return "pk"
    if entry.subject:
        return f"{entry.subject}_id"
    return None


def _order_id(entry: registry.Entry) -> str | None:
    label = entry.label
    return {"orders.Order": "pk", "orders.Payment": "order_id", "orders.OrderLine": "order_id"}.get(label)


def hold_filters(entry: registry.Entry, holds: tuple[str, ...]) -> dict[str, Q]:
    found: dict[str, Q] = {}
    subject = _subject_id(entry)
    order = _order_id(entry)
    if "restriction" in holds and subject:
        found["restriction"] = Q(Exists(Restriction.objects.filter(user_id=OuterRef(subject), lifted_at__isnull=True)))
    if "open_request" in holds and subject:
        found["open privacy request"] = Q(Exists(PrivacyRequest.objects.filter(
            user_id=OuterRef(subject), status__in=PrivacyRequest.OPEN).exclude(kind=PrivacyRequest.Kind.ERASURE)))
    if "open_return" in holds and order:
        try:
            from orders.models import ReturnRequest
        except ImportError:
            pass
        else:
            found["open return"] = Q(Exists(ReturnRequest.objects.filter(order_id=OuterRef(order),
                                                                          status__in=ReturnRequest.OPEN)))
    if "legal_hold" in holds and order:
        found["legal hold"] = ~Q(**{"legal_hold" if order == "pk" else "order__legal_hold": ""})
    return found


# --- the run -----------------------------------------------------------------------------

@dataclass
class RuleResult:
    affected: int = 0
    postponed: dict | None = None


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
                    from privacy.rights.erasure import _anonymise

                    _anonymise(entry, batch)
            done += len(ids)
            self._record(rule.setting, action, done, postponed)
            self._tick()
        self._record(rule.setting, action, done, postponed)

    def inactive_accounts(self) -> None:
        """Warn 30 days ahead, then erase accounts unused for 24 months (like a deletion request)."""
        from django.db.models.functions import Coalesce

        from shop.models import User

        from privacy.rights.erasure import ErasureBlocked, erase_subject
        from privacy.processors.disclosure import send_personal_email

        limit = _period("accounts.inactive", INACTIVE_AFTER)
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
        from allauth.account.models import EmailAddress

        from shop.models import User

        verified = EmailAddress.objects.filter(user_id=OuterRef("pk"), verified=True)
        qs = User.objects.filter(is_staff=False, last_login__isnull=True,
                                 date_joined__lt=self.now - _period("accounts.unverified", UNVERIFIED_AFTER)) \
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
        cutoff = self.now - _period("audit.entries", ACCESS_LOG_KEEP)
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
                from privacy.models import AccessLogSubject

                AccessLogSubject.objects.filter(entry_id__lte=last_id).delete()
                AccessLogEntry.objects.filter(pk__lte=last_id)._purge()
                head.anchor_id, head.anchor_hash = last_id, last_hash
                head.save(update_fields=["anchor_id", "anchor_hash"])
            done += len(batch)
            self._tick()
        self.run.counts["audit.entries"] = {"action": "delete", "count": done, "postponed": {}}


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
        for entry in registry.entries():
            for rule in entry.retention:
                try:
                    purger.registry_rule(entry, rule)
                except Interrupted:
                    raise
                except Exception as exc:  # one rule failing must not stop the others
                    log.exception("retention rule %s failed", rule.setting)
                    run.errors.append(f"{rule.setting}: {type(exc).__name__}")
        for special in (purger.unverified_accounts, purger.inactive_accounts, purger.access_log):
            try:
                special()
            except Interrupted:
                raise
            except Exception as exc:
                log.exception("retention rule %s failed", special.__name__)
                run.errors.append(f"{special.__name__}: {type(exc).__name__}")
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
    """Every rule with its current period, for the policy page and the README."""
    rows = []
    for entry in registry.entries():
        for rule in entry.retention:
            rows.append({"model": entry.verbose_name, "key": rule.setting, "description": rule.description,
                         "days": rule.period.days, "then": rule.then.label})
    rows += [
        {"model": "user", "key": "accounts.inactive", "days": _period("accounts.inactive", INACTIVE_AFTER).days,
         "description": "Accounts unused this long are erased, after an email warning 30 days before",
         "then": "erased"},
        {"model": "user", "key": "accounts.unverified", "days": _period("accounts.unverified", UNVERIFIED_AFTER).days,
         "description": "Sign-ups whose email was never verified are deleted", "then": "deleted"},
        {"model": "access log entry", "key": "audit.entries", "days": _period("audit.entries", ACCESS_LOG_KEEP).days,
         "description": "Staff access records are kept for accountability, then deleted", "then": "deleted"},
    ]
    return rows
