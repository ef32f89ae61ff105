from pathlib import Path

from django.db import migrations
from django.utils import timezone


def create(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    now = timezone.now()
    body = (Path(__file__).resolve().parent.parent / "default_policy.md").read_text()
    # The first version has nothing to give notice of: it is in force from the start.
    PolicyVersion.objects.create(version="1.0", title="Privacy policy", body=body, summary="First version.",
                                 material=False, published_at=now, effective_at=now)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_consenttext_policyversion_dailypageviews_and_more")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
