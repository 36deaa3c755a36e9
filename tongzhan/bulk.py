"""Inserting many rows at once: COPY on PostgreSQL, bulk_create elsewhere.

Django's bulk_create on PostgreSQL sends each batch as arrays that psycopg quotes value by
value; for a 100,000-row roster that quoting was most of the import's time. COPY streams
the rows instead. Objects get their primary keys as with bulk_create.
"""

from django.db import DEFAULT_DB_ALIAS, connections


def insert_objects(model, objects: list, *, batch_size: int = 1000) -> None:
    """Insert unsaved `objects` of `model`, setting their primary keys."""
    if not objects:
        return
    # The connection itself, not the thread-local proxy: it is asked once per value.
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    meta = model._meta
    fields = list(meta.local_concrete_fields)
    with connection.cursor() as cursor:
        # Reserve the ids first, so links and history can point at the new rows.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for obj in objects:
                copy.write_row(
                    [
                        field.get_db_prep_save(field.pre_save(obj, True), connection)
                        for field in fields
                    ]
                )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert plain value tuples into `model`'s table (columns by attribute name)."""
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000
        )
        return
    meta = model._meta
    names = ", ".join(
        connection.ops.quote_name(meta.get_field(column.removesuffix("_id")).column)
        for column in columns
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
