# Joins the key store's models (per-person data keys, tombstones) to the rights branches' steps.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0016_h17keys_keystore"),
        ("privacy", "0017_merge_rights_branches"),
    ]
    operations = []
