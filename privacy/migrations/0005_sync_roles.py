from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0004_default_policy"), ("shop", "0002_user_signup_policy_browsingevent"),
                    ("orders", "0003_order_policy")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
