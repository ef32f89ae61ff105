from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0005_sync_roles")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop, elidable=True)]
