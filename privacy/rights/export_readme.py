"""The README inside a person's data download: written to them, in words (the template
templates/privacy/export_readme.txt), listing the files their archive really holds."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string

from privacy.registry.taxonomy import DataCategory


def export_readme(*, doc: dict, categories: list[str]) -> str:
    """The note for an archive of `doc` whose CSV files are `<category>.csv` for `categories`."""
    labels = dict(DataCategory.choices)
    return render_to_string("privacy/export_readme.txt", {
        "shop_name": settings.SHOP_NAME, "generated_at": datetime.fromisoformat(doc["generated_at"]),
        "files": [(f"{c}.csv", labels.get(c, "Other records")) for c in categories],
        "schema": doc["schema"], "schema_version": doc["schema_version"]})
