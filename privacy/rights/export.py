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

The archive is written model by model, a chunk of rows at a time, straight into the private
storage (privacy.protection.storage: a local folder or an S3-compatible bucket, never a
web-served path), sealed with our streaming format as it goes, and read back the same way on
download: neither side ever holds it whole. It is deleted when it expires.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from celery import signature
from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from privacy.models import ExportJob
from privacy.processors.disclosure import send_personal_email
from privacy.protection.crypto import email_index
from privacy.protection.storage import (
    private_delete,
    private_delete_any,
    private_key,
    private_names,
    private_storage,
    private_written_at,
    sealed_chunks,
    sealed_writer,
)
from privacy.protection.stream import SEGMENT, EncryptingWriter, decrypting_chunks
from privacy.registry import declarations as registry
from privacy.rights import subjects as selectors
from privacy.rights.export_readme import export_readme
from privacy.rights.subject_requests import request_complete

SCHEMA = "privacy-first-shop/personal-data-export"
SCHEMA_VERSION = 1
DOWNLOAD_SALT = "privacy.rights.export-download"
STALE_AFTER = timedelta(hours=2)
SKIP = {"password"}
KIND = "exports"  # their folder in the private storage
CHUNK = 1000  # rows fetched at a time while writing an archive


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


def _category(entry: registry.Entry, name: str) -> str:
    personal = entry.fields.get(name)
    return personal.category.value if personal else (entry.category.value if entry.category else "records")


def _model_header(entry: registry.Entry) -> dict:
    return {"name": entry.verbose_name, "description": entry.description, "purpose": entry.purpose.label,
            "legal_basis": entry.legal_basis.label, "categories": [c.value for c in entry.categories()],
            "records": []}


def _subject_records(entry: registry.Entry, *, user, email: str) -> Iterator[dict]:
    qs = selectors.subject_queryset(entry, user=user, email=email)
    if qs is None:
        return
    fields = _exported_fields(entry)
    names = [f.attname if f.is_relation else f.name for f in fields]
    # One query; rows fetched CHUNK at a time, as tuples (no model instances: same values).
    for values in qs.values_list(*[f.attname for f in fields]).iterator(chunk_size=CHUNK):
        yield dict(zip(names, map(_jsonable, values), strict=True))


def export_document(*, user=None, email: str = "", on_progress: Callable[[int], None] | None = None) -> dict:
    """The whole export as one dict, in memory: for the staff command only (the archive people
    download is written by export_write, which never holds it whole). One query per model."""
    entries = registry.entries()
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "generated_at": timezone.now().isoformat(),
           "subject": {"kind": "user" if user is not None else "guest"}, "models": {}}
    for i, entry in enumerate(entries, 1):
        doc["models"][entry.label] = {**_model_header(entry),
                                      "records": list(_subject_records(entry, user=user, email=email))}
        if on_progress:
            on_progress(int(i * 90 / len(entries)))
    return doc


def _dumps(value, level: int) -> str:
    """json.dumps(indent=2) of a value nested `level` deep in the document: the same text as
    dumping the whole document at once, so data.json is exactly schema version 1's layout."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


_LITERALS = {None: "null", True: "true", False: "false"}


def _record_text(record: dict) -> str:
    """A record as _dumps(record, 4) writes it, without the pure-Python encoder that indent
    forces on json.dumps (records are flat: strings, integers, booleans, null)."""
    if not record:
        return "{}"
    parts = []
    for key, value in record.items():
        if isinstance(value, str):
            text = encode_basestring(value)
        elif value is None or value is True or value is False:
            text = _LITERALS[value]
        elif isinstance(value, int):
            text = int.__repr__(value)
        else:
            return _dumps(record, 4)
        parts.append(f"          {encode_basestring(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n        }"


class _TextSink:
    """Text to a binary file object, encoded and written in pieces of about one segment."""

    def __init__(self, raw: BinaryIO):
        self._raw, self._parts, self._size = raw, [], 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= SEGMENT:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._raw.write("".join(self._parts).encode())
            self._parts, self._size = [], 0


class _CategorySpill:
    """One CSV per data category, written while data.json is, then copied into the archive:
    each goes to an anonymous temporary file sealed with our stream format (no plaintext on the
    worker's disk, no whole CSV in memory)."""

    def __init__(self):
        self._files: dict[str, tuple[BinaryIO, EncryptingWriter, _TextSink, io.StringIO, Any]] = {}

    def writer(self, category: str):
        """The CSV writer of a category's file (created, header first, on first use)."""
        if category not in self._files:
            temp = tempfile.TemporaryFile()
            sealed = EncryptingWriter(temp)
            text, buffer = _TextSink(sealed), io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["model", "record_id", "field", "value"])
            self._files[category] = (temp, sealed, text, buffer, writer)
        return self._files[category][4]

    def drain(self) -> None:
        """Move what the CSV writers buffered to the sealed files once it reaches a segment."""
        for _, _, text, buffer, _ in self._files.values():
            if buffer.tell() >= SEGMENT:
                self._drain(text, buffer)

    @staticmethod
    def _drain(text: _TextSink, buffer: io.StringIO) -> None:
        text.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()

    def copy_into(self, archive: zipfile.ZipFile) -> None:
        for category in sorted(self._files):
            temp, sealed, text, buffer, _ = self._files.pop(category)
            with temp:
                self._drain(text, buffer)
                text.flush()
                sealed.close()
                temp.seek(0)
                with archive.open(f"{category}.csv", "w", force_zip64=True) as out:
                    for chunk in decrypting_chunks(temp):
                        out.write(chunk)

    def close(self) -> None:
        for temp, *_ in self._files.values():
            temp.close()
        self._files.clear()


def _write_archive(sink: BinaryIO, *, generated_at: str, kind: str,
                   sections: Iterable[tuple[registry.Entry, Iterable[dict]]],
                   on_progress: Callable[[int], None] | None = None, total: int = 0) -> int:
    """The ZIP (data.json, one CSV per category, README.txt) written front to back into `sink`,
    which need not be seekable (entries carry data descriptors). Returns the number of records."""
    count = 0
    spill = _CategorySpill()
    try:
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("data.json", "w", force_zip64=True) as raw:
                out = _TextSink(raw)
                head = _dumps({"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "generated_at": generated_at,
                               "subject": {"kind": kind}, "models": {}}, 0)
                out.write(head[: -len("{}\n}")] + "{")
                models = 0
                for i, (entry, records) in enumerate(sections, 1):
                    text = _dumps(_model_header(entry), 2)
                    cut = text.rindex('"records": []') + len('"records": [')
                    out.write(("," if models else "") + "\n    " + _dumps(entry.label, 0) + ": " + text[:cut])
                    first, label, writers = True, entry.label, {}
                    for record in records:
                        out.write(("" if first else ",") + "\n        " + _record_text(record))
                        first = False
                        count += 1
                        record_id = record.get("id")
                        for name, value in record.items():
                            if name not in writers:
                                writers[name] = spill.writer(_category(entry, name))
                            writers[name].writerow((label, record_id, name, value))
                        if count % 100 == 0:
                            spill.drain()
                    out.write(("" if first else "\n      ") + text[cut:])
                    models += 1
                    if on_progress and total:
                        on_progress(int(i * 90 / total))
                out.write(("\n  }" if models else "}") + "\n}")
                out.flush()
            categories = sorted(spill._files)
            spill.copy_into(archive)
            archive.writestr("README.txt", export_readme(
                doc={"generated_at": generated_at, "schema": SCHEMA, "schema_version": SCHEMA_VERSION},
                categories=categories))
    finally:
        spill.close()
    return count


def export_archive(doc: dict) -> bytes:
    """The archive of a document built by export_document, in memory (the staff command)."""
    by_label = {e.label: e for e in registry.entries()}
    buffer = io.BytesIO()
    _write_archive(buffer, generated_at=doc["generated_at"], kind=doc["subject"]["kind"],
                   sections=[(by_label[label], data["records"]) for label, data in doc["models"].items()])
    return buffer.getvalue()


def export_write(*, sink: BinaryIO, user=None, email: str = "",
                 on_progress: Callable[[int], None] | None = None) -> int:
    """Write a person's archive into `sink` model by model, CHUNK rows at a time: memory stays
    flat whatever the number of records. One query per registered model. Returns the number
    of records written."""
    entries = registry.entries()
    return _write_archive(sink, generated_at=timezone.now().isoformat(),
                          kind="user" if user is not None else "guest",
                          sections=((e, _subject_records(e, user=user, email=email)) for e in entries),
                          on_progress=on_progress, total=len(entries))


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

    # One name per job: a retry after a killed worker replaces what the first try wrote, and
    # sweeps its unfinished partial file, so nothing is left twice.
    name = hashlib.sha256(f"export-file:{job.token}".encode()).hexdigest()[:32] + ".zip.enc"
    for leftover in private_names(kind=KIND):
        if leftover.startswith(f"{name}.") and leftover.endswith(".part"):
            private_delete_any(kind=KIND, name=leftover)
    with sealed_writer(kind=KIND, name=name) as sink:  # sealed and sent to the storage as it is written
        export_write(sink=sink, user=user, email=email, on_progress=progress)
    size = private_storage().size(private_key(KIND, name))
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
    """The archive's plaintext, one 64 KiB segment at a time as it is read from the storage
    (never the whole archive in memory), or None when there is no file."""
    if not job.file_name:
        return None
    return sealed_chunks(kind=KIND, name=job.file_name)


def export_file_delete(*, name: str) -> None:
    """Delete an export's file from the private storage (idempotent)."""
    if name:
        private_delete(kind=KIND, name=name)


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
        export_file_delete(name=job.file_name)
    ExportJob.objects.filter(pk__in=[j.pk for j in expired]).update(status=ExportJob.Status.EXPIRED, file_name="")
    known = set(ExportJob.objects.exclude(file_name="").values_list("file_name", flat=True))
    for name in private_names(kind=KIND):
        if name in known:
            continue
        written = private_written_at(kind=KIND, name=name)
        if written is not None and written < now - timedelta(hours=1):  # not a build under way
            private_delete_any(kind=KIND, name=name)
    return len(expired)
