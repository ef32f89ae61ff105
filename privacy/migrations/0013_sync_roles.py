from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0012_incident_affectedperson"), ("privacy", "0011_sync_roles")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop, elidable=True)]
