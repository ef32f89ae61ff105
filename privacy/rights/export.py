"""Access and portability (P17): everything we hold about a person, from the registry, as a
ZIP with one JSON document (schema below, versioned) and one CSV file per data category.

JSON schema, version 1:
    {"schema": "privacy-first-shop/personal-data-export", "schema_version": 1,
     "generated_at": ISO 8601, "subject": {"kind": "user" | "guest"},
     "models": {"<app.Model>": {"name", "description", "purpose", "legal_basis", "categories": [...],
                                "records": [{"id": ..., "<field>": value, ...}]}}}
Every registered personal model appears, with an empty list when we hold nothing. Values are
strings, numbers, booleans or null; amounts are decimal strings; times are ISO 8601 in UTC.
Each CSV (<category>.csv) has the columns model, record_id, field, value.

The archive is encrypted at rest with the shop's key ring and kept in the private folder
(never under a web-served path) until it expires.
"""
from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

from celery import signature
from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from privacy.models import ExportJob
from privacy.processors.disclosure import send_personal_email
from privacy.protection.crypto import KEY_RING, email_index
from privacy.protection.stream import EncryptingWriter, decrypting_chunks, is_stream
from privacy.registry import declarations as registry
from privacy.rights import subjects as selectors
from privacy.rights.export_readme import export_readme
from privacy.rights.subject_requests import request_complete

SCHEMA = "privacy-first-shop/personal-data-export"
SCHEMA_VERSION = 1
DOWNLOAD_SALT = "privacy.rights.export-download"
STALE_AFTER = timedelta(hours=2)
SKIP = {"password"}


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _exported_fields(entry: registry.Entry) -> list[models.Field]:
    hidden = {n for n, p in entry.fields.items() if not p.export} | SKIP
    return [f for f in entry.model._meta.concrete_fields if f.name not in hidden]


def _row(entry: registry.Entry, obj, fields: list[models.Field]) -> dict:
    row = {}
    for f in fields:
        row[f.attname if f.is_relation else f.name] = _jsonable(getattr(obj, f.attname))
    return row


def export_document(*, user=None, email: str = "", on_progress: Callable[[int], None] | None = None) -> dict:
    """One query per registered model, whatever the number of orders."""
    entries = registry.entries()
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "generated_at": timezone.now().isoformat(),
           "subject": {"kind": "user" if user is not None else "guest"}, "models": {}}
    for i, entry in enumerate(entries, 1):
        qs = selectors.subject_queryset(entry, user=user, email=email)
        fields = _exported_fields(entry)
        rows = [_row(entry, obj, fields) for obj in qs.iterator(chunk_size=2000)] if qs is not None else []
        doc["models"][entry.label] = {
            "name": entry.verbose_name, "description": entry.description, "purpose": entry.purpose.label,
            "legal_basis": entry.legal_basis.label, "categories": [c.value for c in entry.categories()],
            "records": rows,
        }
        if on_progress:
            on_progress(int(i * 90 / len(entries)))
    return doc


def export_archive(doc: dict) -> bytes:
    per_category: dict[str, list] = {}
    for label, data in doc["models"].items():
        entry = next(e for e in registry.entries() if e.label == label)
        for record in data["records"]:
            for name, value in record.items():
                personal = entry.fields.get(name)
                category = personal.category.value if personal else (entry.category.value if entry.category else
                                                                     "records")
                per_category.setdefault(category, []).append((label, record.get("id"), name, value))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(doc, indent=2, ensure_ascii=False))
        for category, rows in sorted(per_category.items()):
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(["model", "record_id", "field", "value"])
            writer.writerows(rows)
            archive.writestr(f"{category}.csv", text.getvalue())
        archive.writestr("README.txt", export_readme(doc=doc, categories=sorted(per_category)))
    return buffer.getvalue()


def export_dir() -> Path:
    path = Path(settings.PRIVATE_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@transaction.atomic
def export_request(*, user=None, email: str = "", case=None) -> ExportJob:
    """Queue an export; the Celery task builds it. One job at a time per person."""
    guest = email_index(email) if user is None and email else ""
    mine = ExportJob.objects.filter(user=user) if user is not None else ExportJob.objects.filter(guest_index=guest)
    # A job whose worker died long ago must not block a new request forever.
    mine.filter(status__in=["queued", "running"], created_at__lt=timezone.now() - STALE_AFTER).update(
        status=ExportJob.Status.FAILED)
    running = mine.filter(status__in=["queued", "running"]).first()
    if running:
        return running
    job = ExportJob.objects.create(user=user, guest_index=guest, request=case, token=secrets.token_hex(16))
    # By the task's name: the task module imports this one, so this one must not import it.
    transaction.on_commit(lambda: signature("privacy.tasks.export_build", args=(job.pk,)).delay())
    return job


@dataclass(frozen=True)
class ExportBuild:
    job: ExportJob
    built: bool  # False when the job was already settled (a redelivered task): nothing to tell anyone


def export_build(*, job_id: int) -> ExportBuild:
    """Build the archive for a job. Idempotent: a ready job is left as it is; a job
    interrupted half-way (worker killed) starts over and overwrites nothing else."""
    job = ExportJob.objects.get(pk=job_id)
    if job.status in (ExportJob.Status.READY, ExportJob.Status.EXPIRED, ExportJob.Status.FAILED):
        return ExportBuild(job, built=False)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, progress=1)
    user, email = job.user, ""
    if user is None:
        email = job.request.requester_email if job.request_id else ""

    def progress(p: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress=max(1, min(p, 99)))

    doc = export_document(user=user, email=email, on_progress=progress)
    name = job.file_name or f"{secrets.token_hex(16)}.zip.enc"
    target = export_dir() / name
    partial = target.with_suffix(".part")
    partial.touch(mode=0o600)
    partial.chmod(0o600)  # before any byte is written
    with partial.open("wb") as sink, EncryptingWriter(sink) as writer:  # sealed in 64 KiB segments
        writer.write(export_archive(doc))
    size = partial.stat().st_size
    partial.replace(target)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.READY, progress=100, file_name=name, size=size, finished_at=now,
        expires_at=now + timedelta(days=settings.PRIVACY_EXPORT_DAYS))
    job.refresh_from_db()
    if job.request_id and job.request.is_open:  # the access request is answered by the download
        request_complete(case=job.request)
    return ExportBuild(job, built=True)


def export_build_and_tell(*, job_id: int) -> ExportBuild:
    """Build a "download my data" archive, then tell its owner; a redelivered task does not
    email twice (only a build that happened now tells)."""
    result = export_build(job_id=job_id)
    job = result.job
    email = job.user.email if job.user_id else (job.request.requester_email if job.request_id else "")
    if email and result.built:
        url = settings.SITE_URL + (reverse("privacy:dashboard") + "#downloads" if job.user_id
                                   else reverse("privacy:guest_download", args=[job.token]))
        send_personal_email(to=email, subject="Your data is ready to download",
                            text=f"The copy of your data you asked for is ready. Download it within "
                            f"{settings.PRIVACY_EXPORT_DAYS} days: {url}\n— Privacy-first Shop",
                            fields=["user.email"], subject_user_id=job.user_id, guest_index=job.guest_index,
                            reference="data export ready")
    return result


def export_chunks(job: ExportJob) -> Iterator[bytes] | None:
    """The archive's plaintext, one 64 KiB segment at a time (never the whole archive in
    memory), or None when there is no file."""
    path = export_dir() / job.file_name
    if not job.file_name or not path.exists():
        return None
    source = path.open("rb")
    if not is_stream(source.read(4)):
        source.close()
        return iter([KEY_RING.decrypt(path.read_bytes())])  # an archive written before the streaming format
    source.seek(0)

    def chunks() -> Iterator[bytes]:
        with source:
            yield from decrypting_chunks(source)
    return chunks()


def download_token(job: ExportJob) -> str:
    return signing.dumps(job.token, salt=DOWNLOAD_SALT)


def job_from_download_token(token: str) -> ExportJob | None:
    try:
        raw = signing.loads(token, salt=DOWNLOAD_SALT, max_age=timedelta(days=settings.PRIVACY_EXPORT_DAYS))
    except signing.BadSignature:
        return None
    return ExportJob.objects.filter(token=str(raw), status=ExportJob.Status.READY,
                                    expires_at__gt=timezone.now()).first()


def exports_expire(now: datetime | None = None) -> int:
    """Hourly: delete files of expired exports and of anything left behind (idempotent)."""
    now = now or timezone.now()
    expired = list(ExportJob.objects.filter(status=ExportJob.Status.READY, expires_at__lte=now))
    for job in expired:
        (export_dir() / job.file_name).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[j.pk for j in expired]).update(status=ExportJob.Status.EXPIRED, file_name="")
    known = set(ExportJob.objects.exclude(file_name="").values_list("file_name", flat=True))
    for path in export_dir().glob("*"):
        if path.name not in known and path.stat().st_mtime < (now - timedelta(hours=1)).timestamp():
            path.unlink(missing_ok=True)
    return len(expired)
