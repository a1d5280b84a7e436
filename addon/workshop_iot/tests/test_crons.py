from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..schema import generated
from .common import WorkshopIotCase, mock_worker, unreachable

# The worker models log from workshop_worker.py (push) and workshop_worker_health.py (health).
WORKER_LOGGER = "odoo.addons.workshop_iot.models"

HEALTH = {
    "status": "degraded", "software_version": "0.2.0", "worker_uid": "wk-test", "uptime_s": 42.0,
    "broker": {"url": "mqtt://broker.test:1883", "embedded": False, "connected": False, "reconnects": 3},
    "devices": 2, "subscriptions": 4,
    "outbox": {"depth": 17, "oldest_pending_s": 12.5, "dead_letters": 1},
    "odoo": {"configured": True, "last_ok_at": None, "last_error": None},
    "config": {"version": 1, "applied_at": None},
}


@tagged("post_install", "-at_install")
class TestCrons(WorkshopIotCase):
    def test_health_check_updates_worker(self):
        self.assertEqual(generated.validate_health(HEALTH), [])
        with mock_worker(lambda method, params: HEALTH) as calls:
            self.env["workshop.worker"]._cron_check_health()
        self.assertEqual(calls[0][1], "health.get")
        self.assertEqual(self.worker.status, "online")
        self.assertEqual((self.worker.outbox_depth, self.worker.dead_letters), (17, 1))
        self.assertEqual(self.worker.health_status, "degraded")
        self.assertFalse(self.worker.broker_connected)

    def test_health_check_failure_marks_silent_worker_offline(self):
        self.worker.last_seen_at = fields.Datetime.now() - timedelta(hours=1)
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            action = self.worker.action_check_health()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.worker.status, "offline")
        self.assertIn("ConnectionError", logs.output[0])
        self.assertIn("Cannot reach the worker", self.worker.health_error)
        self.assertIn("ConnectionError", self.worker.health_error_detail)

    def test_health_check_failure_keeps_recently_seen_worker_online(self):
        self.worker.last_seen_at = fields.Datetime.now()
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, level="WARNING"):
            self.env["workshop.worker"]._cron_check_health()
        self.assertEqual(self.worker.status, "online")

    def test_close_stale_sessions_only_for_silent_workers(self):
        ev = self.events
        stale, fresh = self.new_session(), self.new_session()
        self.ingest_and_fold([ev.started(self.device, 1, stale), ev.heartbeat(self.device, 2, stale, 60, 50.0, 0.0),
                              ev.started(self.device2, 1, fresh)])
        an_hour_ago = fields.Datetime.now() - timedelta(hours=1)
        for uid in (stale, fresh):
            self.session(uid).write({"started_at": an_hour_ago - timedelta(minutes=10), "last_event_at": an_hour_ago})
        self.worker.last_seen_at = fields.Datetime.now()
        self.assertFalse(self.env["workshop.session"]._cron_close_stale_sessions(), "worker still reports")
        self.worker.last_seen_at = an_hour_ago
        closed = self.env["workshop.session"]._cron_close_stale_sessions()
        self.assertEqual(set(closed.mapped("session_uid")), {stale, fresh})
        session = self.session(stale)
        self.assertEqual((session.state, session.stop_reason, session.ended_at), ("timeout", "timeout", an_hour_ago))
        self.assertEqual(session.billing_state, "to_bill")
        self.assertEqual(self.device.live_state, "unknown")
