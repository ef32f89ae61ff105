"""The sign-in email is sealed (privacy.protection.signin): the column widens, every address in
clear takes the stored form under the shop-wide key (the key sweep, or `manage.py
privacy_seal_per_person`, then moves each under its person's key), and a unique index over the
blind-index head keeps one account per address."""

import django.db.models.functions.text
from django.db import migrations, models

import privacy.protection.emailaddr
import privacy.protection.signin


def seal(apps, schema_editor):
    privacy.protection.signin.seal_column(schema_editor.connection, "shop_user")


def unseal(apps, schema_editor):
    privacy.protection.signin.open_column(schema_editor.connection, "shop_user")


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('privacy', '0021_merge_keys_lifecycle'),
        ('shop', '0009_products_on_sale_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='email',
            field=privacy.protection.signin.SignInEmailField(max_length=512, unique=True, validators=[privacy.protection.emailaddr.validate_email_address], verbose_name='email address'),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Substr('email', 1, 36), name='user_one_account_per_email'),
        ),
    ]
