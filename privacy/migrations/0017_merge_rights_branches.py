# Joins three changes made side by side: choices against GPC (consent), the request clocks per
# jurisdiction, and erasure receipts with partial erasure. They touch different fields.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0016_h18consent_against_gpc"),
        ("privacy", "0016_h18decay_request_clocks"),
        ("privacy", "0016_h18erase_receipts_partial"),
    ]
    operations = []
