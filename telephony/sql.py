"""The few statements the telephony worker runs for every text, written once per model
and database vendor and run with a cursor.

Why: at 200 texts a second the worker's main thread is the bottleneck, and on its path
the ORM's building of each small statement (filters, compiler, field preparation) cost
several times what the database took to run it: `get_or_create` of a customer about
1 ms, an `update()` by primary key 0.15 ms, against 0.03 ms for the same statement from
a cursor (bench/README.md, "Fourth pass"). What is built here is built from the models'
own metadata (table and column names quoted by the connection, values prepared by each
field's documented `pre_save` and `get_db_prep_save`, rows read back through
`Manager.raw`, which applies the fields' converters), so a renamed column or a new
field needs no change here.

What these skip, like `QuerySet.bulk_create` and `update()`: `save()` overrides and the
model signals. Only models that have neither go through here (Message, Customer, Quote;
tests/test_telephony_sql.py checks the rows written match the ORM's).
"""

from functools import lru_cache

from django.db import connection

_built = {}


def statement(connection, build, *key):
    """The SQL `build(connection, *key)` writes, built once per database vendor."""
    cache_key = (build, connection.vendor, *key)
    if (sql := _built.get(cache_key)) is None:
        sql = _built[cache_key] = build(connection, *key)
    return sql


def _insert_sql(connection, model, conflict):
    quote, meta = connection.ops.quote_name, model._meta
    fields = _insert_fields(model)
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"
    if conflict:
        sql += f" ON CONFLICT ({quote(meta.get_field(conflict).column)}) DO NOTHING"
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql


@lru_cache
def _insert_fields(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert(obj, *, on_conflict=None, prepared=None):
    """INSERT `obj` (an unsaved instance) as `save()` would, and set its primary key.

    With `on_conflict` (a unique field's name), a row that would clash with an existing
    one is not written (ON CONFLICT DO NOTHING): returns False and `obj` stays unsaved.
    Otherwise returns True. `prepared`: {field name: the value as stored} for fields the
    caller has prepared already (see `get`)."""
    model = type(obj)
    sql = statement(connection, _insert_sql, model, on_conflict)
    prepared = prepared or {}
    params = [
        prepared[f.name]
        if f.name in prepared
        else f.get_db_prep_save(f.pre_save(obj, True), connection)
        for f in _insert_fields(model)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            pk = row[0] if row else None
        else:  # an older SQLite: no RETURNING
            pk = cursor.lastrowid if cursor.rowcount == 1 else None
    if pk is None:
        return False
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


def _update_sql(connection, model, names):
    quote, meta = connection.ops.quote_name, model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"


def update(model, rows):
    """UPDATE rows by primary key: `rows` is a list of (pk, {field name: value}), every
    dict with the same names. One statement, run for all of them (`executemany`).
    Returns how many rows changed."""
    if not rows:
        return 0
    names = tuple(rows[0][1])
    sql = statement(connection, _update_sql, model, names)
    fields = [model._meta.get_field(name) for name in names]
    params = [
        [f.get_db_prep_save(values[f.name], connection) for f in fields] + [pk]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


def _get_sql(connection, model, name):
    quote, meta = connection.ops.quote_name, model._meta
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    where = quote(meta.get_field(name).column)
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} = %s LIMIT 1"


def get(model, name, value, *, prepared=False):
    """The row whose unique field `name` is `value`, or None. `prepared`: `value` is as
    stored already, not to be prepared by the field again (a phone number field reads
    the number with libphonenumber each time, which costs more than the query)."""
    sql = statement(connection, _get_sql, model, name)
    field = model._meta.get_field(name)
    param = value if prepared else field.get_db_prep_value(value, connection)
    return next(iter(model.objects.raw(sql, [param])), None)
