from django.db import migrations, models


class Migration(migrations.Migration):
    """When a data key was last handed out for writing: the daily key sweep leaves recently used
    keys alone (privacy.keys.sweep). Applies to the key store's database only (KeyStoreRouter)."""

    dependencies = [
        ("privacy", "0018_merge_keystore"),
    ]

    operations = [
        migrations.AddField(
            model_name="datakey",
            name="used_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
