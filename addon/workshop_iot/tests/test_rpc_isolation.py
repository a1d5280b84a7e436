import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import EventFactory, fold_pending, wire_ts
from .rpc_http_common import RpcHttpCase


@tagged("post_install", "-at_install")
class TestRpcIsolation(RpcHttpCase):
    """Finding 2 of issue 12: a worker's key writes only to that worker's machines, at ingest, in
    the fold and on reprocessing; worker.status changes only its own machines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a, cls.key_a = cls.new_worker_user("wiot-iso-a")
        cls.user_b, cls.key_b = cls.new_worker_user("wiot-iso-b")
        Worker, Device = cls.env["workshop.worker"], cls.env["workshop.device"]
        cls.worker_a = Worker.create({"name": "A", "worker_uid": "wk-iso-a", "user_id": cls.user_a.id})
        cls.worker_b = Worker.create({"name": "B", "worker_uid": "wk-iso-b", "user_id": cls.user_b.id})
        cls.device_a = Device.create({"name": "Mill A", "device_id": "shelly-iso-a", "topic": "shelly-iso-a",
                                      "worker_id": cls.worker_a.id})
        cls.device_b = Device.create({"name": "Mill B", "device_id": "shelly-iso-b", "topic": "shelly-iso-b",
                                      "worker_id": cls.worker_b.id})
        cls.events = EventFactory("wk-iso-a", fields.Datetime.now().replace(microsecond=0) - timedelta(seconds=60))

    def stored(self, device_key):
        return self.env["workshop.event"].search([("device_key", "=", device_key), ("worker_uid", "=", "wk-iso-a")])

    def test_event_for_another_workers_machine_is_rejected_per_item(self):
        session = str(uuid.uuid4())
        forged = self.events.started(self.device_b, 1, session, power_w=999_999.0)
        own, unknown = self.events.online(self.device_a, 1, 0), self.events.online("shelly-iso-unknown", 1, 0)
        results = self.ingest(self.key_a, "wk-iso-a", [forged, own, unknown])
        self.assertEqual([r["status"] for r in results], ["rejected", "accepted", "accepted"])
        self.assertEqual(results[0]["code"], "DEVICE_FORBIDDEN")
        self.assertEqual(results[0]["message"], "Machine 'shelly-iso-b' is assigned to another worker")
        self.assertFalse(self.stored("shelly-iso-b"))
        fold_pending(self.env)
        self.assertEqual((self.device_b.live_state, self.device_b.live_power_w), ("unknown", 0.0))
        self.assertFalse(self.env["workshop.session"].search_count([("session_uid", "=", session)]))
        self.assertEqual(self.stored("shelly-iso-a").state, "processed")
        unknown_event = self.stored("shelly-iso-unknown")
        self.assertEqual((unknown_event.state, unknown_event.error),
                         ("error", "Unknown machine (device id 'shelly-iso-unknown')"))

    def test_fold_never_applies_a_stored_event_to_another_workers_machine(self):
        # As an event stored before ingest checked machines: the fold must refuse it on its own.
        session = str(uuid.uuid4())
        Event = self.env["workshop.event"].sudo()
        Event._insert_events(self.worker_a, {}, [self.events.started(self.device_b, 1, session)])
        fold_pending(self.env)
        event = self.stored("shelly-iso-b")
        self.assertEqual(event.state, "error")
        self.assertFalse(event.device_id)
        self.assertFalse(self.env["workshop.session"].search_count([("session_uid", "=", session)]))
        self.assertEqual(self.device_b.live_state, "unknown")

    def test_reprocess_matches_only_the_events_own_workers_machines(self):
        session = str(uuid.uuid4())
        early = self.events.started("shelly-iso-later", 1, session)
        self.assertEqual(self.ingest(self.key_a, "wk-iso-a", [early])[0]["status"], "accepted")
        fold_pending(self.env)
        event = self.stored("shelly-iso-later")
        self.assertEqual(event.state, "error")
        # The id turns up as worker B's machine: A's stored event must not land there ...
        machine_b = self.env["workshop.device"].create(
            {"name": "Later B", "device_id": "shelly-iso-later", "topic": "shelly-iso-later",
             "worker_id": self.worker_b.id})
        event.action_reprocess()
        self.assertEqual(event.state, "error")
        self.assertFalse(machine_b.session_ids)
        later = self.events.heartbeat("shelly-iso-later", 2, session, 60, 60.0, 0.0)
        self.assertEqual(self.ingest(self.key_a, "wk-iso-a", [later])[0]["code"], "DEVICE_FORBIDDEN")
        # ... and lands on worker A's machine once there is one.
        machine_b.active = False
        machine_b.flush_recordset()  # the exclusion constraint on active ids is checked at INSERT
        machine_a = self.env["workshop.device"].create(
            {"name": "Later A", "device_id": "shelly-iso-later", "topic": "shelly-iso-later",
             "worker_id": self.worker_a.id})
        event.action_reprocess()
        self.assertEqual(event.state, "processed")
        self.assertEqual(machine_a.session_ids.session_uid, session)

    def test_status_changes_only_the_workers_own_machines(self):
        now = fields.Datetime.now()

        def state(device):
            return {"device_id": device.device_id, "state": "working", "power_w": 999_999.0, "session_id": None,
                    "session_started_at": None, "session_working_s": 0.0, "session_standby_s": 0.0,
                    "last_seen_at": wire_ts(now), "changed_at": wire_ts(now)}

        doc = self.rpc(self.key_a, "worker.status", {
            "worker_uid": "wk-iso-a", "config_version": 0, "full": True,
            "devices": [state(self.device_b), state(self.device_a)],
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                       "dead_letters": 0, "uptime_s": 1.0, "software_version": "0.1.0"}})
        self.assertEqual(doc["result"]["ok"], True)
        self.env.invalidate_all()
        self.assertEqual(self.device_a.live_state, "working")
        self.assertEqual((self.device_b.live_state, self.device_b.live_power_w), ("unknown", 0.0))

    def test_a_machine_moved_to_another_worker_does_not_keep_its_old_session_open(self):
        # The old worker's own stop for it is refused from now on: Odoo's stale-session cron must
        # close the session although that worker still reports.
        session = str(uuid.uuid4())
        hour_ago = EventFactory("wk-iso-a", fields.Datetime.now().replace(microsecond=0) - timedelta(hours=1))
        answer = self.ingest(self.key_a, "wk-iso-a", [hour_ago.started(self.device_a, 1, session)])
        self.assertEqual(answer[0]["status"], "accepted")
        fold_pending(self.env)
        Session = self.env["workshop.session"]
        self.assertFalse(Session._cron_close_stale_sessions(), "worker A still reports for its machine")
        self.device_a.worker_id = self.worker_b
        answer = self.ingest(self.key_a, "wk-iso-a", [hour_ago.stopped(self.device_a, 2, session, 3600, 3600.0, 0.0)])
        self.assertEqual(answer[0]["code"], "DEVICE_FORBIDDEN")
        closed = Session._cron_close_stale_sessions()
        self.assertEqual((closed.session_uid, closed.state, closed.closed_by_odoo), (session, "timeout", True))
