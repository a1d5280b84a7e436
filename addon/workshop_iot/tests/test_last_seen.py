from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..models.workshop_device_live import BUS_TYPE
from .common import WorkshopIotCase, capture_bus, wire_ts


@tagged("post_install", "-at_install")
class TestLastSeen(WorkshopIotCase):
    """A machine's "last seen" is the last message from its meter (the events' and status reports'
    ``last_seen_at``), never the time the worker sent a heartbeat or a report; it never goes back."""

    def seen(self, event, offset_s):
        event["payload"]["last_seen_at"] = None if offset_s is None else wire_ts(self.events.at(offset_s))
        return event

    def status(self, last_seen_at, changed_at):
        item = {"device_id": self.device.device_id, "state": "working", "power_w": 500.0,
                "session_id": None, "session_started_at": None, "session_working_s": 0.0,
                "session_standby_s": 0.0, "last_seen_at": last_seen_at and wire_ts(last_seen_at),
                "changed_at": wire_ts(changed_at)}
        params = {
            "worker_uid": self.worker.worker_uid, "config_version": 1, "full": False,
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                       "dead_letters": 0, "uptime_s": 60.0, "software_version": "0.1.0"},
            "devices": [item],
        }
        return self.env["workshop.worker"].with_user(self.worker_user).sudo()._rpc_status(params)

    def tile(self):
        machines = self.env["workshop.device"].with_user(self.staff).dashboard_machines()
        return next(m for m in machines if m["device_id"] == self.device.device_id)

    def test_heartbeat_of_a_silent_meter_keeps_last_seen(self):
        uid, ev = self.new_session(), self.events
        self.ingest_and_fold([self.seen(ev.started(self.device, 1, uid, offset_s=10), 5)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(5))
        with capture_bus(self.env) as sent:
            self.ingest_and_fold([self.seen(ev.heartbeat(self.device, 2, uid, 70, 70.0, 0.0), 5)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(5))
        self.assertEqual(self.device.live_session_working_s, 70.0)  # the heartbeat itself applied
        self.assertEqual(self.tile()["last_seen_at"], wire_ts(ev.at(5)))
        pushed = [payload for _target, kind, payload in sent if kind == BUS_TYPE]
        self.assertEqual([p["last_seen_at"] for p in pushed], [wire_ts(ev.at(5))])

    def test_heartbeat_without_last_seen_does_not_move_it(self):
        """An older worker's heartbeat (no ``last_seen_at``) says nothing about the meter."""
        uid, ev = self.new_session(), self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid, offset_s=10)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(0))  # the reading that started it
        self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 70, 70.0, 0.0)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(0))

    def test_a_newer_meter_message_moves_last_seen(self):
        uid, ev = self.new_session(), self.events
        self.ingest_and_fold([self.seen(ev.started(self.device, 1, uid, offset_s=10), 5)])
        self.ingest_and_fold([self.seen(ev.heartbeat(self.device, 2, uid, 70, 70.0, 0.0), 64)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(64))
        self.ingest_and_fold([self.seen(ev.stopped(self.device, 3, uid, 100, 90.0, 0.0), 100),
                              self.seen(ev.online(self.device, 4, 120), 120)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(120))
        self.assertEqual(self.device.live_state, "idle")

    def test_late_event_never_takes_last_seen_back(self):
        uid, ev = self.new_session(), self.events
        self.ingest_and_fold([self.seen(ev.started(self.device, 1, uid, offset_s=10), 5),
                              self.seen(ev.heartbeat(self.device, 3, uid, 130, 130.0, 0.0), 125)])
        self.ingest_and_fold([self.seen(ev.heartbeat(self.device, 2, uid, 70, 70.0, 0.0), 64)])
        self.assertEqual(self.device.live_last_seen_at, ev.at(125))

    def test_worker_times_are_not_meter_messages(self):
        """Without ``last_seen_at`` (an older worker), a removal's or shutdown's end is the worker's
        time and a null ``last_seen_at`` is no time at all: last seen stays."""
        uid, ev = self.new_session(), self.events
        self.ingest_and_fold([self.seen(ev.started(self.device, 1, uid, offset_s=10), 5)])
        self.ingest_and_fold([ev.stopped(self.device, 2, uid, 100, 90.0, 0.0, reason="shutdown")])
        self.assertEqual(self.device.live_last_seen_at, ev.at(5))
        self.ingest_and_fold([self.seen(ev.online(self.device, 3, 120), None)])
        self.assertEqual((self.device.live_last_seen_at, self.device.live_state), (ev.at(5), "idle"))

    def test_status_report_sets_the_meter_time_and_never_takes_it_back(self):
        now = fields.Datetime.now()
        seen = now - timedelta(seconds=40)
        self.status(seen, now - timedelta(seconds=60))
        self.assertEqual(self.device.live_last_seen_at, seen)
        with capture_bus(self.env) as sent:
            # A restarted worker (coarser persisted time) and one that has not heard the meter yet.
            self.status(seen - timedelta(seconds=30), now - timedelta(seconds=60))
            self.status(None, now - timedelta(seconds=60))
        self.assertEqual(self.device.live_last_seen_at, seen)
        self.assertFalse([s for s in sent if s[1] == BUS_TYPE])
        with capture_bus(self.env) as sent:
            self.status(now - timedelta(seconds=2), now - timedelta(seconds=60))
        self.assertEqual(self.device.live_last_seen_at, now - timedelta(seconds=2))
        self.assertEqual([p["last_seen_at"] for _t, kind, p in sent if kind == BUS_TYPE],
                         [wire_ts(now - timedelta(seconds=2))])

    def test_last_seen_is_never_later_than_now(self):
        now = fields.Datetime.now()
        self.status(now + timedelta(hours=1), now - timedelta(seconds=60))
        self.assertLessEqual(self.device.live_last_seen_at, fields.Datetime.now())
        self.assertGreaterEqual(self.device.live_last_seen_at, now)
