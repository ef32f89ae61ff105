"""allauth's EmailAddress.email holds the sealed form too (privacy.protection.signin, installed on
the field at start-up): on PostgreSQL the column widens to fit it (SQLite does not enforce a
length), every address in clear takes the stored form under the shop-wide key (the key sweep then
moves each under its person's key), and two unique indexes over the blind-index head take the
place of allauth's own (one verified owner per address; an address once per account), which
compare the whole column and so no longer match equal addresses."""
from django.db import migrations, models
from django.db.models.functions import Substr

from privacy.protection import signin

UNIQUE = (
    models.UniqueConstraint(Substr("email", 1, signin.HEAD), condition=models.Q(verified=True),
                            name="emailaddress_verified_once"),
    # the head first: allauth also looks addresses up without their account (sign-in, sign-up)
    models.UniqueConstraint(Substr("email", 1, signin.HEAD), "user", name="emailaddress_once_per_account"),
)


def _column(schema_editor, length: int) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE account_emailaddress ALTER COLUMN email TYPE varchar({length})")


def forward(apps, schema_editor):
    model = apps.get_model("account", "EmailAddress")
    _column(schema_editor, signin.MAX_LENGTH)
    signin.seal_column(schema_editor.connection, model._meta.db_table)
    for constraint in UNIQUE:
        schema_editor.add_constraint(model, constraint)


def backward(apps, schema_editor):
    model = apps.get_model("account", "EmailAddress")
    for constraint in UNIQUE:
        schema_editor.remove_constraint(model, constraint)
    signin.open_column(schema_editor.connection, model._meta.db_table)
    _column(schema_editor, 254)


class Migration(migrations.Migration):

    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("privacy", "0021_merge_keys_lifecycle"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
