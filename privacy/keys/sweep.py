"""The daily key sweep (P10, P13): no data key outlives the rows it seals, and no value stays under
the shop-wide key because the key store was away when it was written.

Erasure destroys a person's keys once it commits. Everything that escapes that path is caught here:

1. Keys nobody needs any more are destroyed, each with a tombstone: the key of every `user:<id>`
   whose account no longer exists (or is anonymised), and of every `guest:<blind index>` that no
   row of a model sealed per person (PERSON_KEY_MODELS, by its registered guest index) refers to
   any more; records that only name the index (disclosures, requests) hold nothing it opens. That covers an erasure whose
   key store was out of reach when it committed, the retention purge (it deletes or anonymises the
   rows and leaves their keys to this sweep, scheduled after it), unverified sign-ups it deletes,
   and rows a legal hold kept past an erasure, once the hold ends and they are anonymised.
2. Values of PERSON_KEY_MODELS written under the shop-wide key while the key store was out of reach
   (sealing's logged fallback) move under their person's key, so erasure reaches their backups too;
   so do sign-in email addresses (privacy.protection.signin) written under the shop-wide key.

Never a key still in use: only keys idle for keystore.KEY_IDLE (neither created nor handed out for
writing), re-checked under a row lock when destroyed; never a key that a row under an active legal
hold is sealed with. A provisional `pending:` key (a new account's, named before its row had an id)
that is still pending a day later lost its rename (the key store went away at that moment) or its
sign-up was rolled back: it takes the name of the account whose sign-in email is sealed under it,
so erasure finds it, and a key no account is sealed under is destroyed.
Batched (keys by primary key, rows by primary key with a database-side filter, nothing table-wide
in memory); idempotent and safe to run twice at once: destroyed keys are gone for the second run,
re-sealed rows are no longer candidates, and each batch re-reads its rows locked.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import BinaryField, CharField, Q, Value
from django.db.models.functions import Substr
from django.utils import timezone

from privacy.protection import keystore, sealing, signin
from privacy.protection.crypto import encrypted_fields
from privacy.protection.rows import rows_update
from privacy.registry import declarations as registry
from privacy.registry.hooks import legal_hold_condition

log = logging.getLogger(__name__)
BATCH = 500  # subjects or rows per statement: below every database's parameter limit


@dataclass
class SweepReport:
    keys_checked: int = 0
    keys_destroyed: int = 0
    keys_named: int = 0  # provisional keys given their account's name
    resealed: dict[str, int] = field(default_factory=dict)
    key_store_down: bool = False


def keys_sweep(*, now: datetime | None = None, batch_size: int = BATCH) -> SweepReport:
    """Destroy the keys nobody needs, then re-seal shop-wide values under their person's key (see
    the module's docstring). A key store out of reach ends the run early, changing nothing more;
    the next run does the rest."""
    report = SweepReport()
    try:
        keys_destroy_orphaned(now=now, batch_size=batch_size, report=report)
        values_reseal(batch_size=batch_size, report=report)
    except (keystore.KeyStoreUnavailable, DatabaseError):
        log.warning("key sweep stopped: the key store is out of reach; the next run goes on")
        report.key_store_down = True
    log.info("key sweep%s: %d keys checked, %d destroyed, %d provisional keys named, %d values re-sealed",
             " (stopped early)" if report.key_store_down else "", report.keys_checked,
             report.keys_destroyed, report.keys_named, sum(report.resealed.values()))
    return report


# --- 1. keys nobody needs --------------------------------------------------------------------

def _held_key_ids() -> set[str]:
    """Key ids that rows under an active legal hold are sealed with (held rows are few)."""
    found: set[str] = set()
    for model in _person_key_models():
        condition = legal_hold_condition(model)
        names = [f.name for f in encrypted_fields(model)]
        if condition is None or not names:
            continue
        for row in model._base_manager.filter(condition).values_list(*names).iterator(chunk_size=BATCH):
            for value in row:
                if isinstance(value, sealing.Sealed) and value.key_id:
                    found.add(value.key_id)
                elif isinstance(value, sealing.Unreadable) and sealing.is_sealed(value.ciphertext):
                    found.add(sealing.key_id_of(value.ciphertext))
    return found


def _unneeded(subjects: list[str]) -> set[str]:
    """Of these subjects, those whose account is gone or anonymised, or whose blind index no row
    of a model sealed per person (sealing.PERSON_KEY_MODELS) carries any more."""
    users: dict[int, str] = {}
    guests: dict[str, str] = {}
    for subject in subjects:
        kind, _, ref = subject.partition(":")
        if kind == "user" and ref.isdigit():
            users[int(ref)] = subject
        elif kind == "guest" and ref:
            guests[ref] = subject
    User = get_user_model()
    alive = User._base_manager.filter(pk__in=list(users))
    if "anonymised_at" in {f.name for f in User._meta.concrete_fields}:
        alive = alive.filter(anonymised_at__isnull=True)
    live_users = set(alive.values_list("pk", flat=True)) if users else set()
    live_guests: set[str] = set()
    for entry in registry.entries():
        # Only rows that can be sealed under a guest's key keep it: a record that merely names the
        # blind index (a disclosure or request record kept three years) holds nothing it opens.
        if entry.guest_index and guests and entry.model._meta.label in sealing.PERSON_KEY_MODELS:
            live_guests.update(entry.model._base_manager.filter(**{f"{entry.guest_index}__in": list(guests)})
                               .values_list(entry.guest_index, flat=True).distinct())
    return ({s for pk, s in users.items() if pk not in live_users}
            | {s for index, s in guests.items() if index not in live_guests})


def _settle_pending(pending: list[tuple[str, str]], report: SweepReport) -> set[str]:
    """Idle `pending:` keys: each takes the name of the account whose sign-in email is sealed under
    it (found by the key id in the stored value; such keys are rare: one search of the accounts each, no index serves it);
    those no account is sealed under are returned, to be destroyed. Nothing is decided when the
    account model's sign-in email is not sealed (it would not say whose key it is)."""
    User = get_user_model()
    email = User._meta.get_field(User.get_email_field_name())
    if not pending or not isinstance(email, signin.SignInEmailField):
        return set()
    DataKey = apps.get_model("privacy", "DataKey")
    quote = connection.ops.quote_name
    sql = f"SELECT {quote(User._meta.pk.column)} FROM {quote(User._meta.db_table)} WHERE {quote(email.column)} LIKE %s ESCAPE '!'"
    doomed = set()
    for subject, key_id in pending:
        escaped = key_id.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        with connection.cursor() as cursor:
            cursor.execute(sql, [f"%${sealing.PREFIX.decode()}{escaped}:%"])
            row = cursor.fetchone()
        if row is None:
            doomed.add(subject)
        elif DataKey.objects.filter(subject=f"user:{row[0]}").exists():
            log.error("key sweep: account %s has a second, provisionally named data key; left for review", row[0])
        else:
            keystore.rename_subject(old=subject, new=f"user:{row[0]}")
            report.keys_named += 1
    return doomed


def keys_destroy_orphaned(*, now: datetime | None = None, batch_size: int = BATCH,
                          report: SweepReport | None = None) -> SweepReport:
    """Destroy (with a tombstone) the data key of every subject nobody's rows need any more, among
    keys idle for keystore.KEY_IDLE, a batch of keys at a time."""
    report = report or SweepReport()
    idle_since = (now or timezone.now()) - keystore.KEY_IDLE
    held = _held_key_ids()
    after = 0
    while batch := keystore.idle_keys(idle_since=idle_since, after_pk=after, limit=batch_size):
        after = batch[-1][0]
        report.keys_checked += len(batch)
        doomed = _unneeded([subject for _, subject, key_id in batch if key_id not in held])
        doomed |= _settle_pending([(subject, key_id) for _, subject, key_id in batch
                                   if subject.startswith("pending:") and key_id not in held], report)
        if doomed:
            report.keys_destroyed += keystore.destroy_subjects(doomed, idle_since=idle_since)
    return report


# --- 2. values written under the shop-wide key during an outage -----------------------------

def _person_key_models() -> list:
    found = []
    for label in sealing.PERSON_KEY_MODELS:
        try:
            found.append(apps.get_model(label))
        except LookupError:
            continue
    return found


def _related_paths(entry: registry.Entry) -> list[str]:
    paths = {p.rsplit("__", 1)[0] for p in (entry.subject, entry.guest_index) if p and "__" in p}
    return sorted(paths)


def _known_subject(entry: registry.Entry) -> Q | None:
    """Rows whose subject sealing can name (an account, or a guest's blind index)."""
    if entry.subject == "self":
        return Q()
    q = Q(pk__in=[])
    if entry.subject:
        q |= Q(**{f"{entry.subject}__isnull": False})
    if entry.guest_index:
        q |= Q(**{f"{entry.guest_index}__isnull": False}) & ~Q(**{entry.guest_index: ""})
    return q


def _unsealed(names: list[str]) -> tuple[dict, Q]:
    """Annotations and a filter, computed by the database: at least one of these columns holds a
    value without the per-person prefix (so under the shop-wide key)."""
    annotations, q = {}, Q(pk__in=[])
    for name in names:
        annotations[f"_head_{name}"] = Substr(name, 1, len(sealing.PREFIX), output_field=BinaryField())
        q |= Q(**{f"{name}__isnull": False}) & ~Q(**{f"_head_{name}": Value(sealing.PREFIX, output_field=BinaryField())})
    return annotations, q


def with_shop_wide_values(model, qs):
    """Rows of `qs` with at least one encrypted value under the shop-wide key (all rows for a model
    outside PERSON_KEY_MODELS). Rotation uses it to leave rows sealed per person alone: their data
    keys are re-wrapped instead."""
    if model._meta.label not in sealing.PERSON_KEY_MODELS:
        return qs
    annotations, unsealed = _unsealed([f.name for f in encrypted_fields(model)])
    return qs.annotate(**annotations).filter(unsealed)


def values_reseal(*, batch_size: int = BATCH, report: SweepReport | None = None) -> SweepReport:
    """Move every shop-wide value of PERSON_KEY_MODELS that belongs to a known person under that
    person's key (rows_update of the values read, a batch of rows at a time, each batch re-read
    locked). Raises KeyStoreUnavailable when the key store is (still) out of reach."""
    report = report or SweepReport()
    for model in _person_key_models():
        entry = registry.entry_for(model)
        names = [f.name for f in encrypted_fields(model)]
        known = _known_subject(entry) if entry is not None else None
        if known is None or not names:
            continue
        annotations, unsealed = _unsealed(names)
        candidates = model._base_manager.annotate(**annotations).filter(known).filter(unsealed)
        done = 0
        for ids in _id_pages(candidates, batch_size):
            with transaction.atomic():
                rows = list(model._base_manager.filter(pk__in=ids).select_related(*_related_paths(entry))
                            .select_for_update(of=("self",)).order_by("pk"))
                changed, fields = [], set()
                for row in rows:
                    subject = sealing.subject_of(row)
                    if subject is None:
                        continue
                    key_id, _ = keystore.key_for_subject(subject)
                    for name in names:
                        value = getattr(row, name)
                        if isinstance(value, str) and not isinstance(value, (sealing.Sealed, sealing.Unreadable)):
                            setattr(row, name, sealing.Sealed.of(value, key_id))
                            fields.add(name)
                            changed.append(row)
                changed = list({row.pk: row for row in changed}.values())
                if changed:
                    rows_update(model, changed, sorted(fields))
            done += len(changed)
        if done:
            report.resealed[model._meta.label] = done
    signin_reseal(batch_size=batch_size, report=report)
    return report


def _id_pages(candidates, batch_size: int):
    """The primary keys of `candidates`, a page at a time in key order; each page is read after
    the previous one was handled, so rows it changed are no longer candidates."""
    after = None
    while True:
        page = candidates if after is None else candidates.filter(pk__gt=after)
        ids = list(page.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        after = ids[-1]
        yield ids


def signin_columns() -> list[tuple]:
    """(model, field) of every sealed sign-in email column (shop.User's, allauth's EmailAddress's)."""
    return [(model, f) for model in apps.get_models() for f in model._meta.concrete_fields
            if isinstance(f, signin.SignInEmailField)]


def signin_reseal(*, batch_size: int, report: SweepReport) -> None:
    """The same for the sign-in email columns (privacy.protection.signin): shop.User's and allauth's
    EmailAddress's, written under the shop-wide key by their migration, a QuerySet.update or an
    outage. Each row is re-read locked and its address sealed again under its person's key."""
    for model, column in signin_columns():
        if registry.entry_for(model) is None:
            continue
        body = Substr(column.name, signin.HEAD + 2, len(sealing.PREFIX), output_field=CharField())
        candidates = model._base_manager.annotate(_body=body).filter(**{f"{column.name}__isnull": False}) \
            .exclude(_body=sealing.PREFIX.decode())
        done = 0
        for ids in _id_pages(candidates, batch_size):
            with transaction.atomic():
                rows = list(model._base_manager.filter(pk__in=ids).select_for_update(of=("self",)).order_by("pk"))
                changed = []
                for row in rows:
                    value, subject = getattr(row, column.attname), sealing.subject_of(row)
                    if subject is None or not value or isinstance(value, sealing.Unreadable):
                        continue
                    setattr(row, column.attname, signin.compose(value, keystore.key_for_subject(subject)))
                    changed.append(row)
                if changed:
                    rows_update(model, changed, [column.name])
            done += len(changed)
        if done:
            report.resealed[f"{model._meta.label}.{column.name}"] = done
