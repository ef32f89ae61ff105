from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("shop", "0001_initial"),
        ("orders", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
