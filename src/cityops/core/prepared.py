"""Hot fixed statements as server-side prepared statements on PostgreSQL (psycopg 3).

Django's PostgreSQL cursors bind parameters on the client and never prepare, so PostgreSQL parses and plans
every statement again; for the short statements of a hot request (bearer auth, intake) planning is most of
their cost (measured 0.15–0.25 ms per statement, 0.02 ms prepared). `execute()` runs a statement written
with %s placeholders as a named prepared statement of the connection (psycopg keeps them per connection and
re-prepares after a reconnect), inside whatever transaction Django has open, with database errors turned
into django.db errors as Django's own cursors do.

Falls back to an ordinary Django cursor on other databases, and whenever queries are being logged or
wrapped (DEBUG, CaptureQueriesContext, execute_wrapper), so instrumentation still sees every statement.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import InterfaceError, OperationalError, connections

try:
    import psycopg
except ImportError:  # psycopg2 or no PostgreSQL driver
    psycopg = None

# Django leaves prepare_threshold None (nothing prepared); psycopg then ignores prepare=True. A threshold no
# statement reaches keeps Django's own (client-binding) cursors as they are and lets prepare=True work.
_ONLY_WHEN_ASKED = 1 << 30


def execute(sql: str, params, *, fetch: str | None = "all", using: str = "default"):
    """Run one statement; return all rows (fetch="all"), the first row or None ("one"), or nothing (None)."""
    conn = connections[using]
    if psycopg is None or conn.vendor != "postgresql" or conn.queries_logged or conn.execute_wrappers:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return _fetch(cursor, fetch)
    # Django checks a persistent connection once per request before its first statement (CONN_HEALTH_CHECKS,
    # a SELECT 1). Here the first statement is the check: a read that finds the connection gone (the server
    # restarted while it was idle) reconnects and runs again, outside a transaction; a write is not repeated.
    first_use = conn.connection is not None and conn.health_check_enabled and not conn.health_check_done
    conn.ensure_connection()
    conn.validate_no_broken_transaction()
    if not isinstance(conn.connection, psycopg.Connection):
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return _fetch(cursor, fetch)
    try:
        return _run(conn, sql, params, fetch)
    except (OperationalError, InterfaceError):
        if not (first_use and not conn.in_atomic_block and sql.lstrip()[:6].upper() == "SELECT"):
            raise
        conn.close()
        conn.ensure_connection()
        return _run(conn, sql, params, fetch)
    finally:
        conn.health_check_done = True


def _run(conn, sql, params, fetch):
    raw = conn.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    with conn.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return _fetch(cursor, fetch)


def _fetch(cursor, fetch):
    if fetch == "all":
        return cursor.fetchall()
    if fetch == "one":
        return cursor.fetchone()
    return None


def select_columns(fields, alias: str, conn, *, start: int = 0) -> tuple[list[str], list[tuple]]:
    """The quoted `alias.column` of each field, and the converters the ORM would apply to each when reading it
    back — as (position, column expression, converters), positions counted from `start` — for a hand-written
    SELECT whose rows become model instances with `Model.from_db` (see `convert_row`)."""
    qn = conn.ops.quote_name
    columns, converters = [], []
    for pos, field in enumerate(fields, start):
        col = field.get_col(alias)
        columns.append(f"{alias}.{qn(field.column)}")
        convs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
        if convs:
            converters.append((pos, col, convs))
    return columns, converters


def convert_row(row, converters, conn) -> list:
    """The row as a list, each value passed through its converters (`select_columns`)."""
    row = list(row)
    for pos, col, convs in converters:
        for conv in convs:
            row[pos] = conv(row[pos], col, conn)
    return row


def gate_insert(sql: str, gate: str) -> str:
    """`INSERT … VALUES (…) [rest]` as `INSERT … SELECT … {gate} [rest]`, so it writes only when the gate's
    condition holds (a FROM/WHERE over a CTE of the same statement); unchanged without a gate. Every insert of
    a one-statement create is gated here (workflow.create_with_timeline)."""
    return _gated(sql, gate) if gate else sql


@lru_cache(maxsize=256)  # statements of a few shapes, scanned once each
def _gated(sql: str, gate: str) -> str:
    start = sql.index(" VALUES (") + len(" VALUES (")
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        end += 1
    return f"{sql[:start - len(' VALUES (')]} SELECT {sql[start:end - 1]} {gate}{sql[end:]}"
