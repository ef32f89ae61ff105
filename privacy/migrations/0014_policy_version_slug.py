"""Policy version names become URL-safe slugs (privacy.models.POLICY_VERSION_PATTERN).

A published version is history and cannot be edited in the admin, so one published under a
name that is not a slug (e.g. "x/y", which made every storefront page fail) is renamed here:
each run of other characters becomes "-" ("x/y" -> "x-y"), made unique if needed. Drafts keep
their names; the admin asks for a valid name before it saves or publishes one.
"""
import re

import django.core.validators
from django.db import migrations, models

PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"


def slug_for(name: str, pk: int, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name.encode("ascii", "ignore").decode()).lstrip("._-")[:20]
    candidate, n = base or f"v{pk}", 1
    while candidate in taken:
        suffix = f"-{pk}" if n == 1 else f"-{pk}-{n}"
        candidate, n = (base or "v")[:20 - len(suffix)] + suffix, n + 1
    return candidate


def rename_published(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    valid = re.compile(rf"\A{PATTERN}\Z")
    taken = set(PolicyVersion.objects.values_list("version", flat=True))
    for version in PolicyVersion.objects.filter(published_at__isnull=False).order_by("pk"):
        if valid.match(version.version):
            continue
        new = slug_for(version.version, version.pk, taken)
        taken.add(new)
        PolicyVersion.objects.filter(pk=version.pk).update(version=new)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_squashed_0013_roles_by_post_migrate")]

    operations = [
        migrations.RunPython(rename_published, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="policyversion",
            name="version",
            field=models.CharField(max_length=20, unique=True, validators=[django.core.validators.RegexValidator(
                "\\A[A-Za-z0-9][A-Za-z0-9._-]{0,19}\\Z",
                "Use letters, digits, dots, hyphens and underscores only, starting with a letter or digit "
                "(for example 2.1 or 2026-spring); at most 20 characters.", code="invalid_version")]),
        ),
    ]
