"""One identity per email address: every stored email takes its canonical form
(privacy.protection.emailaddr), and the Lower() constraint, whose folding differed from the lookups',
gives way to the plain unique on the canonical email.

Accounts: when look-alikes share one canonical form, only one account gets it: the one
already spelled that way, else one with a verified address, else the oldest. The others,
and addresses with no canonical form at all, are left as they were (no lookup by email
finds them any more) and their ids are printed for staff to review. allauth's
EmailAddress rows follow; an unverified, non-primary one that cannot be canonicalised or
duplicates its account's canonical address is deleted (no mail could ever confirm it).
Guest emails (orders, support threads, marketing, privacy requests, incident lists) are
rewritten with their blind index, and the indexes kept beside disclosures and export jobs
follow the same mapping, so erasure and export still find everything.
"""
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, migrations, models, transaction

import privacy.protection.emailaddr
from privacy.protection.crypto import KEY_RING, email_index, encrypted_fields
from privacy.protection.emailaddr import canonical_email

GUEST_EMAILS = [("orders", "Order", "email"), ("orders", "SupportThread", "email"),
                ("privacy", "MarketingSubscriber", "email"), ("privacy", "PrivacyRequest", "requester_email"),
                ("privacy", "AffectedPerson", "email")]
GUEST_INDEXES = [("privacy", "Disclosure", "guest_index"), ("privacy", "ExportJob", "guest_index")]
CHUNK = 500


def _canonical(value: str) -> str | None:
    try:
        return canonical_email(value)
    except ValidationError:
        return None


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def accounts_canonicalise(apps, schema_editor) -> list[int]:
    """Returns the ids of accounts left for review (also printed)."""
    User = apps.get_model("shop", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    review, pending = [], defaultdict(list)
    for pk, email in User._base_manager.order_by("pk").values_list("pk", "email").iterator(chunk_size=2000):
        canonical = _canonical(email)
        if canonical is None:
            review.append(pk)
        elif canonical != email:
            pending[canonical].append(pk)
    taken = set()
    for chunk in _chunks(list(pending)):
        taken |= set(User._base_manager.filter(email__in=chunk).values_list("email", flat=True))
    for canonical, pks in pending.items():
        if canonical in taken:
            review += pks
            continue
        verified = set(EmailAddress.objects.filter(user_id__in=pks, verified=True).values_list("user_id", flat=True))
        owner = next((pk for pk in pks if pk in verified), pks[0])
        review += [pk for pk in pks if pk != owner]
        User._base_manager.filter(pk=owner).update(email=canonical)

    changes = []
    for pk, user_id, email, verified, primary in EmailAddress.objects.order_by("pk").values_list(
            "pk", "user_id", "email", "verified", "primary").iterator(chunk_size=2000):
        canonical = _canonical(email)
        if canonical != email:
            changes.append((pk, user_id, canonical, not verified and not primary, verified))
    for pk, user_id, canonical, disposable, verified in changes:
        if canonical is None or EmailAddress.objects.filter(user_id=user_id, email=canonical).exists():
            if disposable:
                EmailAddress.objects.filter(pk=pk).delete()
        elif not (verified and EmailAddress.objects.filter(email=canonical, verified=True).exists()):
            EmailAddress.objects.filter(pk=pk).update(email=canonical)
    if review:
        print(f"\n  shop.0005: {len(review)} account(s) kept an email with no canonical form or a look-alike "
              f"of another account's; review them by id: {', '.join(map(str, sorted(review)))}")
    return sorted(review)


def guests_canonicalise(apps, schema_editor) -> None:
    remap = {}
    for app, name, field in GUEST_EMAILS:
        model = apps.get_model(app, name)
        for f in encrypted_fields(model):
            f._fernet = KEY_RING  # historical fields are not given the key ring at start-up
        changes = []
        rows = model._base_manager.order_by("pk").values_list("pk", field, "email_index")
        for pk, email, index in rows.iterator(chunk_size=CHUNK):
            canonical = _canonical(email) if email else None
            if canonical is not None and (canonical != email or email_index(canonical) != index):
                changes.append((pk, canonical, index))
        for pk, canonical, old in changes:
            new = email_index(canonical)
            remap[old] = new
            try:
                with transaction.atomic():
                    model._base_manager.filter(pk=pk).update(**{field: canonical, "email_index": new})
            except IntegrityError:
                pass  # the same person is already there under the canonical form (unique subscribers)
    remap = {old: new for old, new in remap.items() if old and old != new}
    for app, name, field in GUEST_INDEXES:
        model = apps.get_model(app, name)
        for old, new in remap.items():
            model._base_manager.filter(**{field: old}).update(**{field: new})


def forwards(apps, schema_editor) -> None:
    accounts_canonicalise(apps, schema_editor)
    guests_canonicalise(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0004_user_inactivity_warned_at"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("orders", "0007_order_order_not_anonymised"),
        ("privacy", "0013_sync_roles"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="user",
            name="user_email_ci_unique",
        ),
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(max_length=254, unique=True,
                                    validators=[privacy.protection.emailaddr.validate_email_address],
                                    verbose_name="email address"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
