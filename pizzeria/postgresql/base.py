"""PostgreSQL with a health check that costs no round trip, and prepared statements.

Connections persist between requests (CONN_MAX_AGE) and are health-checked before
each request reuses them (CONN_HEALTH_CHECKS), so a server restart or an idle
timeout costs nobody an error. Django checks with a `SELECT 1`: a round trip per
request, which on the inbound SMS webhook was a quarter of its time (bench/).

Here a connection that psycopg reports idle and unbroken, with nothing waiting to
be read on its socket, is taken as usable without asking the server. When the
server ends a connection (restart, `pg_terminate_backend`, idle timeout) it says
so on the socket, which then reads as ready; in that case, and whenever psycopg
is not sure, the check falls back to Django's `SELECT 1`. A server that vanished
without a word (a cut cable) is not seen by either check until a query times out.

`prepared_cursor()` is for the few hot statements of fixed shape (the inbound SMS
insert): its parameters are bound on the server and each statement is prepared
the first time a connection runs it, so PostgreSQL parses and plans it once per
connection. Django's own cursors keep client-side binding and never prepare
(its defaults). Behind a transaction-pooling PgBouncer older than 1.21, which
cannot keep prepared statements, set DATABASE_PREPARED_STATEMENTS=false.
Preparing saves the server about a third of the insert's work (bench/README.md).

Requires psycopg 3.
"""

import select

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format, TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if conn.prepare_threshold is None and self.settings_dict.get("PREPARED_STATEMENTS", True):
            # Django switches preparing off. Allow it for statements that ask for it
            # (PreparingCursor) and for no others: a count no query reaches.
            conn.prepare_threshold = 2**31
        return conn

    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status == TransactionStatus.IDLE and not socket_readable(conn):
            return True
        return super().is_usable()

    def prepared_cursor(self):
        """A cursor (Django's, with its error wrapping and query logging) binding on the server."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = PreparingCursor(self.connection)
            tzloader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != tzloader.timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)


class PreparingCursor(base.ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def socket_readable(conn):
    """Whether the server sent something on an idle connection (poll, no waiting)."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
