"""Wake Odoo's cron threads (and the bus, for dashboard tiles) over one kept connection instead of
a new one per request.

Odoo's ``ir.cron._notifydb`` sends ``pg_notify('cron_trigger', <db>)`` on the ``postgres`` database,
where the cron threads listen, through ``db_connect('postgres').cursor()``; Odoo never pools
connections to ``postgres``, so every call opens a new one: PostgreSQL forks a backend and
authenticates, 3-40 ms depending on the machine and its load (25 ms median on the 2-vCPU bench VM
under load), paid by every ``events.ingest`` request after its COMMIT, before the worker gets its
answer. That was most of the request's fixed cost (scripts/bench/README.md, odoo-ingest).

The bus does the same after every transaction that sent a notification (``bus.bus``'s postcommit
hook): ``worker.status`` calls and fold runs that change a tile paid it too. ``send_bus`` sends the
dashboard's notifications that way (``models/bus_bus.py``; other notifications are Odoo's).

``notify_cron_threads`` sends the same notification on one autocommit connection per process
(opened on first use, with the connection parameters Odoo itself uses for ``postgres``),
serialised by a lock; a failed send reconnects once, then falls back to Odoo's own
``_notifydb``. Nothing else runs on that connection, and a process forked after it was opened
(Odoo's prefork workers) opens its own. If all fails, the fold cron's 1-minute schedule still
folds the events (``data/ir_cron_data.xml``).
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql as pgsql

from odoo import sql_db

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_conn = None
_conn_pid = None


def _notify_function():
    from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

    return ODOO_NOTIFY_FUNCTION


def _connection():
    global _conn, _conn_pid
    if _conn is not None and _conn_pid == os.getpid() and not _conn.closed:
        return _conn
    _name, info = sql_db.connection_info_for("postgres")
    conn = psycopg2.connect(**info)
    conn.autocommit = True
    _conn, _conn_pid = conn, os.getpid()
    return conn


def _drop():
    global _conn
    conn, _conn = _conn, None
    if conn is not None and _conn_pid == os.getpid():
        try:
            conn.close()
        except psycopg2.Error:
            pass


def send_cron_trigger(dbname):
    """``pg_notify('cron_trigger', dbname)`` on the kept connection; False when it failed twice."""
    return _send("cron_trigger", [dbname])


def send_bus(payloads):
    """``pg_notify('imbus', payload)`` for each payload, as ``bus.bus``'s postcommit hook sends them
    (``models/bus_bus.py``); falls back to Odoo's way (a new connection) when the kept one fails."""
    if not payloads or _send("imbus", payloads):
        return
    from odoo.tools import SQL

    with sql_db.db_connect("postgres").cursor() as cr:
        for payload in payloads:
            cr.execute(SQL("SELECT %s('imbus', %s)", SQL.identifier(_notify_function()), payload))


def _send(channel, payloads):
    query = pgsql.SQL("SELECT {}(%s, %s)").format(pgsql.Identifier(_notify_function()))
    with _lock:
        for _attempt in range(2):
            try:
                with _connection().cursor() as cr:
                    for payload in payloads:
                        cr.execute(query, (channel, payload))
                return True
            except psycopg2.Error as exc:
                _logger.info("Waking the cron threads over the kept connection failed (%s); reconnecting",
                             type(exc).__name__)
                _drop()
    return False


def notify_cron_threads(cron):
    """Postcommit hook: wake the cron threads for ``cron``'s database (see the module doc)."""
    dbname = cron.env.cr.dbname

    def notify():
        if not send_cron_trigger(dbname):
            cron._notifydb()

    return notify
