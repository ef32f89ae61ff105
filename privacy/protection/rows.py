"""Writing the values of many rows read before (decay steps, key rotation, re-sealing).

Django's bulk_update writes a batch as one UPDATE with a CASE over every row of the batch, which
the database evaluates for each row it updates: a comparison per row per row, quadratic in the
batch (measured: the retention purge's decay steps at x23 a plain UPDATE). Here each row is one
prepared UPDATE by primary key, sent together (executemany): linear, one statement plan.

Values go through each field's get_db_prep_save, as bulk_update's do: encrypted fields are
encrypted (a value read under a person's key is sealed under that key again, see sealing), and
no pre_save runs (nothing else of the row is touched).
"""
from __future__ import annotations

from django.db import connections, router


def rows_update(model, rows: list, names: list[str] | tuple[str, ...]) -> int:
    """Write the fields `names` of each of `rows` (instances of `model`) to the database, one
    UPDATE by primary key per row. Returns the rows sent. Call it inside the caller's transaction."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)
