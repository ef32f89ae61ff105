from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0009_purgelock_purgerun_purgepostponement"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
