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
model signals. Only Message, which has neither, goes through here (tests/test_telephony_sql.py
checks the rows written match the ORM's). This is the only module with hand-written SQL;
the other apps use the ORM (at 200 texts a second the worker has the time: bench/README.md,
"One path for a text").
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


def insert(obj, *, on_conflict=None):
    """INSERT `obj` (an unsaved instance) as `save()` would, and set its primary key.

    With `on_conflict` (a unique field's name), a row that would clash with an existing
    one is not written (ON CONFLICT DO NOTHING): returns False and `obj` stays unsaved.
    Otherwise returns True."""
    model = type(obj)
    sql = statement(connection, _insert_sql, model, on_conflict)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in _insert_fields(model)]
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
    # Model._state is documented (Model instance reference): save() now updates the row.
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


# --- the telephony worker's own statements ------------------------------------------------
# Each is the ORM queryset named in its docstring, written out; tests run them through the
# worker's path (tests/test_inbound_turn.py, tests/test_telephony_sql.py).


def _columns(connection, model):
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), {
        f.name: quote(f.column) for f in model._meta.concrete_fields
    }


def _waiting_sql(connection, model, passed_over):
    table, field = _columns(connection, model)
    others = ""
    if passed_over:
        others = f"AND {field['from_number']} NOT IN ({', '.join(['%s'] * passed_over)}) "
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    return (
        f"SELECT {', '.join(field.values())} FROM {table} "
        f"WHERE {field['direction']} = %s AND {field['handled_at']} IS NULL {others}"
        f"ORDER BY {field['created_at']}, {field['id']} LIMIT %s{skip_locked}"
    )


def take_waiting(model, inbound, count, passed_over):
    """model.objects.filter(direction=inbound, handled_at=None)
    .exclude(from_number__in=passed_over).order_by("created_at", "id")
    .select_for_update(skip_locked=True)[:count], as a list (rows read through `raw`)."""
    passed_over = sorted(passed_over)
    built = statement(connection, _waiting_sql, model, len(passed_over))
    return list(model.objects.raw(built, [inbound, *passed_over, count]))


def _turn_sql(connection, message_model, optout_model, inbound, outbound, pending):
    messages, field = _columns(connection, message_model)
    optouts, optout = _columns(connection, optout_model)
    states = ", ".join(f"'{state}'" for state in pending)
    # SQLite's planner, with no statistics, reads "sid IS NULL" through the unique index
    # on sid: every reply never sent (failed ones too) instead of the customer's own. A
    # unary + keeps a term off an index (sqlite.org/optoverview.html), so msg_out_to is used.
    plus = "+" if connection.vendor == "sqlite" else ""
    return f"""SELECT
        EXISTS(SELECT 1 FROM {messages} WHERE {field["direction"]} = '{inbound}'
            AND {field["from_number"]} = %s AND {field["handled_at"]} IS NULL
            AND ({field["created_at"]} < %s
                 OR ({field["created_at"]} = %s AND {field["id"]} < %s))),
        EXISTS(SELECT 1 FROM {messages} WHERE {field["direction"]} = '{outbound}'
            AND {field["to_number"]} = %s AND {field["in_reply_to"]} IS NOT NULL
            AND {field["status"]} IN ({states}) AND {plus}{field["sid"]} IS NULL),
        EXISTS(SELECT 1 FROM {optouts} WHERE {optout["phone_number"]} = %s),
        (SELECT COUNT(*) FROM {messages} WHERE {field["direction"]} = '{outbound}'
            AND {field["to_number"]} = %s AND {field["in_reply_to"]} IS NOT NULL
            AND {field["created_at"]} >= %s)"""


def turn(message_model, optout_model, *, inbound, outbound, pending, message, number, since):
    """Four answers about `message` (an inbound text) and `number` (its sender), in one
    round trip: (an older unhandled text of theirs exists, a reply to them has not left
    (status in `pending` and no SID), `number` opted out, automatic replies to `number`
    since `since`). The rules themselves are the telephony worker's: telephony/inbound.py."""
    key = (message_model, optout_model, inbound, outbound, tuple(pending))
    built = statement(connection, _turn_sql, *key)
    adapt = connection.ops.adapt_datetimefield_value
    created_at = adapt(message.created_at)
    params = [message.from_number, created_at, created_at, message.pk]
    params += [number, number, number, adapt(since)]
    with connection.cursor() as cursor:
        cursor.execute(built, params)
        return cursor.fetchone()


def _claim_sql(connection, model, count, claimed, queued):
    table, field = _columns(connection, model)
    return (
        f"UPDATE {table} SET {field['status']} = '{claimed}', {field['claimed_by']} = %s, "
        f"{field['attempts']} = {field['attempts']} + 1, {field['updated_at']} = %s "
        f"WHERE {field['id']} IN ({', '.join(['%s'] * count)}) AND {field['status']} = '{queued}' "
        f"AND {field['sid']} IS NULL AND {field['next_attempt_at']} IS NULL"
    )


def claim_queued(model, pks, now, *, queued, claimed, claimed_by):
    """model.objects.filter(pk__in=pks, status=queued, sid=None, next_attempt_at=None)
    .update(status=claimed, claimed_by=claimed_by, attempts=F("attempts") + 1,
    updated_at=now). Returns how many rows it claimed."""
    built = statement(connection, _claim_sql, model, len(pks), claimed, queued)
    params = [claimed_by, connection.ops.adapt_datetimefield_value(now), *pks]
    with connection.cursor() as cursor:
        cursor.execute(built, params)
        return cursor.rowcount
