"""Full-text search for products on PostgreSQL.

A tsvector column (name weighted A, description B, English stemming), a GIN index on it, and a
trigger that fills it on every INSERT and UPDATE so every write path (save, bulk_create, update,
raw SQL) keeps it current. On SQLite only the (unused) column is added.
"""
import django.contrib.postgres.search
from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION shop_product_search_vector_update() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english'::regconfig, coalesce(NEW.name, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, coalesce(NEW.description, '')), 'B');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER shop_product_search_vector_trigger
    BEFORE INSERT OR UPDATE ON shop_product
    FOR EACH ROW EXECUTE FUNCTION shop_product_search_vector_update()
    """,
    "UPDATE shop_product SET name = name",
    "CREATE INDEX shop_product_search_vector_gin ON shop_product USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS shop_product_search_vector_gin",
    "DROP TRIGGER IF EXISTS shop_product_search_vector_trigger ON shop_product",
    "DROP FUNCTION IF EXISTS shop_product_search_vector_update()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_email_canonical_form")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
