"""Inserting many rows at once: COPY on PostgreSQL, bulk_create elsewhere.

Django's bulk_create on PostgreSQL sends each batch as arrays that psycopg quotes value by
value; for a 100,000-row roster that quoting was most of the import's time. COPY streams
the rows instead. Objects get their primary keys as with bulk_create.
"""

import operator

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

# Fields whose Python value psycopg writes as the column wants it: no preparation by Django.
# Exact types: a subclass (an encrypted field, say) may prepare its value.
_PLAIN_FIELDS = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.BooleanField,
        models.CharField,
        models.DateField,
        models.DateTimeField,
        models.ForeignKey,
        models.IntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SlugField,
        models.SmallIntegerField,
        models.TextField,
    }
)


def _preparers(fields, connection) -> list:
    """Per field: None when the attribute goes to COPY as it is, else what prepares it."""

    def preparer(field):
        if type(field) in _PLAIN_FIELDS:
            return None
        return lambda value: field.get_db_prep_save(value, connection)

    return [preparer(field) for field in fields]


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
    # auto_now and auto_now_add: one time for the whole batch, as the rows go in together.
    now = timezone.now()
    stamped = [
        field.attname
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    # The row's values straight from the instances' __dict__ (C speed); the few fields that
    # need preparing (encrypted, JSON) are prepared by position.
    row_of = operator.itemgetter(*(field.attname for field in fields))
    prepared = [
        (index, prepare)
        for index, prepare in enumerate(_preparers(fields, connection))
        if prepare is not None
    ]
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
                values = obj.__dict__
                for attname in stamped:
                    values[attname] = now
                row = row_of(values)
                if prepared:
                    row = list(row)
                    for index, prepare in prepared:
                        row[index] = prepare(row[index])
                copy.write_row(row)
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
    fields = [meta.get_field(column.removesuffix("_id")) for column in columns]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    preparers = _preparers(fields, connection)
    if not any(preparers):
        prepared = rows
    else:
        prepared = (
            [
                value if prepare is None else prepare(value)
                for value, prepare in zip(row, preparers, strict=True)
            ]
            for row in rows
        )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in prepared:
            copy.write_row(row)
