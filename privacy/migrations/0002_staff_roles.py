from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    # No dependency on other apps: the roles are synced after migrate (post_migrate), and a
    # dependency here would tie the squashed migration to orders, which depends on privacy.
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop, elidable=True)]
