from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0004_default_policy")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop, elidable=True)]
