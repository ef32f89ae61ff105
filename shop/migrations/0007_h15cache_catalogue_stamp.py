"""The catalogue stamp (shop.pagecache): one row, bumped by database triggers on every insert,
update and delete of a product or a category, so no write path can forget to invalidate cached
pages. PostgreSQL: statement-level triggers (one bump per statement, also on TRUNCATE);
SQLite: row-level (SQLite has no statement triggers)."""
from django.db import migrations, models

TABLES = ("shop_product", "shop_category")

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION shop_catalogue_stamp_bump() RETURNS trigger AS $$
    BEGIN
        UPDATE shop_cataloguestamp SET value = value + 1 WHERE id = 1;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    *[f"""
    CREATE TRIGGER {table}_catalogue_stamp
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION shop_catalogue_stamp_bump()
    """ for table in TABLES],
]
POSTGRES_BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS {table}_catalogue_stamp ON {table}" for table in TABLES],
    "DROP FUNCTION IF EXISTS shop_catalogue_stamp_bump()",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {table}_catalogue_stamp_{event.lower()} AFTER {event} ON {table}
    BEGIN UPDATE shop_cataloguestamp SET value = value + 1 WHERE id = 1; END
    """
    for table in TABLES for event in ("INSERT", "UPDATE", "DELETE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_catalogue_stamp_{event.lower()}"
    for table in TABLES for event in ("INSERT", "UPDATE", "DELETE")
]


def forward(apps, schema_editor):
    apps.get_model("shop", "CatalogueStamp").objects.update_or_create(pk=1, defaults={"value": 1})
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES_FORWARD if vendor == "postgresql" else SQLITE_FORWARD if vendor == "sqlite" else []:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES_BACKWARD if vendor == "postgresql" else SQLITE_BACKWARD if vendor == "sqlite" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("shop", "0006_product_search_vector")]

    operations = [
        migrations.CreateModel(
            name="CatalogueStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
