from django.db import migrations

from privacy.protection.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [("privacy", "0010_sync_roles"), ("orders", "0006_attachment_refund_returnline_returnrequest_and_more")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
