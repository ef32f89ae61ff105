"""The private storage on an S3-compatible object store (django-storages, boto3), used when
AWS_STORAGE_BUCKET_NAME is set. Objects are private (ACL "private"), never given a URL, and
hold only our own ciphertext (privacy.protection.storage). Imported only when configured."""
from __future__ import annotations

from django.core.files import File
from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """django-storages' S3 backend with two changes: no URL, and reads that stream the
    object's body instead of downloading it whole into a temporary buffer first (S3File
    would, in memory by default). Writes keep S3File: a multipart upload in 5 MB parts."""

    def __init__(self, **options):
        options.setdefault("default_acl", "private")
        options.setdefault("querystring_auth", True)
        options.setdefault("file_overwrite", False)
        super().__init__(**options)

    def _open(self, name, mode="rb"):
        if "w" in mode:
            return super()._open(name, mode)
        from botocore.exceptions import ClientError

        key = self._normalize_name(name)
        try:
            body = self.bucket.Object(key).get()["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from exc
            raise
        return File(body, name=name)

    def url(self, name, *args, **kwargs):
        raise ValueError("Private files have no URL.")
