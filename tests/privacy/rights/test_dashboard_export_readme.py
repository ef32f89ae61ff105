"""The note inside the data download speaks to the person and names the files really there;
the JSON and CSV stay as documented (schema version 1)."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from privacy.rights.export import SCHEMA, SCHEMA_VERSION, export_archive, export_document
from tests.e2e.readable import raw_words

pytestmark = pytest.mark.django_db


@pytest.mark.promise("P17")
def test_the_readme_speaks_to_the_person_about_the_files_in_their_archive(rich_user):
    archive = zipfile.ZipFile(io.BytesIO(export_archive(export_document(user=rich_user))))
    names = set(archive.namelist())
    readme = archive.read("README.txt").decode()
    assert readme.startswith("Your data from ")
    assert not re.search(r"\(P\d+\)", readme) and "P17" not in readme
    assert raw_words(readme.split("HOW TO READ THE SPREADSHEETS")[0]) == []  # below: the CSV's own terms
    for name in names - {"README.txt"}:
        assert f"\n{name}\n" in readme, name
    assert "Postal address: the same values as a spreadsheet" in readme  # the CSV named in words
    assert "Our copy of this\nfile is deleted after 7 days." in readme
    assert f'"{SCHEMA}", version {SCHEMA_VERSION}' in readme
    assert "&quot;" not in readme and "&#x27;" not in readme  # plain text, not HTML-escaped


def test_the_json_and_csv_stay_as_documented(rich_user):
    archive = zipfile.ZipFile(io.BytesIO(export_archive(export_document(user=rich_user))))
    doc = json.loads(archive.read("data.json"))
    assert (doc["schema"], doc["schema_version"]) == (SCHEMA, 1)
    assert set(doc) == {"schema", "schema_version", "generated_at", "subject", "models"}
    assert set(doc["models"]["orders.Order"]) == {"name", "description", "purpose", "legal_basis", "categories",
                                                  "records"}
    rows = list(csv.reader(io.StringIO(archive.read("address.csv").decode())))
    assert rows[0] == ["model", "record_id", "field", "value"]
