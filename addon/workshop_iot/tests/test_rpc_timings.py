"""Issue 20: the per-phase timings of the benches (tools/rpc_timings.py) and the cron wake-up over
a kept connection (tools/pg_notify.py)."""

import json
import select
import time
import uuid
from unittest.mock import patch

import psycopg2

from odoo import fields, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..models.workshop_device_live import BUS_TYPE, DASHBOARD_SUBCHANNEL
from ..models.workshop_event_fold import FOLD_CRON
from ..tools import pg_notify, rpc_timings
from .common import EventFactory
from .rpc_http_common import RpcHttpCase


@tagged("post_install", "-at_install")
class TestRpcTimings(RpcHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.key = cls.new_worker_user("wiot-timings-worker")
        cls.worker = cls.env["workshop.worker"].create(
            {"name": "Timings", "worker_uid": "wk-timings", "user_id": cls.user.id})
        cls.device = cls.env["workshop.device"].create(
            {"name": "Saw", "device_id": "shelly-saw", "topic": "shelly-saw", "worker_id": cls.worker.id})
        cls.events = EventFactory("wk-timings", fields.Datetime.now().replace(microsecond=0))

    def ingest_body(self):
        event = self.events.started(self.device, 1, str(uuid.uuid4()))
        return {"jsonrpc": "2.0", "id": 1, "method": "events.ingest",
                "params": {"worker_uid": "wk-timings", "events": [event]}}

    def test_no_timings_on_the_wire_by_default(self):
        self.assertFalse(rpc_timings.ENABLED)
        response = self.post(self.key, self.ingest_body())
        self.assertEqual(response.json()["result"]["results"][0]["status"], "accepted")
        self.assertNotIn("Server-Timing", response.headers)

    def test_phases_in_a_header_when_enabled(self):
        with patch.object(rpc_timings, "ENABLED", True):
            response = self.post(self.key, self.ingest_body())
        self.assertEqual(response.json()["result"]["results"][0]["status"], "accepted")
        phases = {}
        for part in response.headers["Server-Timing"].split(","):
            name, _sep, dur = part.strip().partition(";dur=")
            phases[name] = float(dur)
        for name in ("auth", "body", "validate", "worker", "screen", "insert", "savepoint", "respond",
                     "flush", "server"):
            self.assertIn(name, phases)
            self.assertGreaterEqual(phases[name], 0.0)
        self.assertGreaterEqual(phases["server"], phases["insert"])


@tagged("post_install", "-at_install")
class TestCronWakeUp(TransactionCase):
    """The fold trigger wakes the cron threads without a new connection per request."""

    def setUp(self):
        super().setUp()
        self.listener = _listen()
        self.addCleanup(self.listener.close)
        self.db = self.env.cr.dbname

    def test_same_connection_each_time_and_the_cron_threads_hear_it(self):
        self.assertTrue(pg_notify.send_cron_trigger(self.db))
        first = pg_notify._conn
        self.assertEqual(_wait_notify(self.listener, self.db), 1)
        self.assertTrue(pg_notify.send_cron_trigger(self.db))
        self.assertIs(pg_notify._conn, first)
        self.assertEqual(_wait_notify(self.listener, self.db), 1)

    def test_reconnects_when_the_connection_was_lost(self):
        self.assertTrue(pg_notify.send_cron_trigger(self.db))
        pid = pg_notify._conn.get_backend_pid()
        cr = self.listener.cursor()
        cr.execute("SELECT pg_terminate_backend(%s)", (pid,))  # as when PostgreSQL restarts
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cr.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            if not cr.fetchone()[0]:
                break
        # Detected either as a closed connection or by the failing NOTIFY (then logged at INFO).
        with mute_logger(pg_notify.__name__):
            self.assertTrue(pg_notify.send_cron_trigger(self.db))
        self.assertNotEqual(pg_notify._conn.get_backend_pid(), pid)
        self.assertEqual(_wait_notify(self.listener, self.db, 2), 2)

    def test_fold_trigger_wakes_the_crons_without_odoo_new_connection(self):
        """After the commit of an ingest, the cron threads are woken over the kept connection:
        Odoo's _notifydb (a new connection to 'postgres' each time) is not called."""
        cr = self.env.cr
        cr.postcommit.clear()
        self.env["workshop.event"]._create_fold_trigger()
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(FOLD_CRON).id)]))
        no_new_connection = AssertionError("new connection to postgres")
        with patch.object(type(self.env["ir.cron"]), "_notifydb", side_effect=no_new_connection):
            cr.postcommit.run()
        self.assertEqual(_wait_notify(self.listener, self.db), 1)


@tagged("post_install", "-at_install")
class TestDashboardBusWakeUp(TransactionCase):
    """Tile notifications: the same bus rows, the websockets woken without a new connection."""

    def test_tile_notification_row_and_imbus_over_the_kept_connection(self):
        listener = _listen("imbus")
        self.addCleanup(listener.close)
        cr = self.env.cr
        cr.postcommit.clear()
        company = self.env.company
        self.env["bus.bus"]._sendone((company, DASHBOARD_SUBCHANNEL), BUS_TYPE, {"id": 1, "state": "working"})
        last = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id
        cr.flush()  # precommit: the rows
        row = self.env["bus.bus"].sudo().search([("id", ">", last)])
        self.assertEqual(len(row), 1)
        self.assertEqual(json.loads(row.message), {"type": BUS_TYPE, "payload": {"id": 1, "state": "working"}})
        with patch.object(sql_db, "db_connect", side_effect=AssertionError("new connection to postgres")):
            cr.postcommit.run()
        channel = json.loads(row.channel)
        self.assertEqual(_wait_notify(listener, None, match=lambda p: channel in json.loads(p)), 1)


def _listen(channel="cron_trigger"):
    """A connection to 'postgres' listening on ``channel``, as Odoo's cron and bus threads do."""
    _name, info = sql_db.connection_info_for("postgres")
    conn = psycopg2.connect(**info)
    conn.autocommit = True
    conn.cursor().execute("LISTEN %s" % channel)
    return conn


def _wait_notify(conn, db, count=1, timeout=10.0, match=None):
    """How many cron_trigger notifications for ``db`` arrived, waiting until ``count`` did or
    ``timeout`` passed (other Odoo servers on this PostgreSQL notify for their own databases)."""
    got, deadline = 0, time.monotonic() + timeout
    while got < count and time.monotonic() < deadline:
        if select.select([conn], [], [], max(deadline - time.monotonic(), 0)) == ([], [], []):
            break
        conn.poll()
        got += sum(1 for n in conn.notifies if (match(n.payload) if match else n.payload == db))
        conn.notifies.clear()
    return got
