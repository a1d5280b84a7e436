from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..models.workshop_device_live import BUS_TYPE, DASHBOARD_SUBCHANNEL
from .common import WorkshopIotCase, capture_bus, wire_ts

DASHBOARD_KEYS = {
    "id", "name", "device_id", "area", "state", "power_w", "session_id", "session_started_at",
    "session_working_s", "session_standby_s", "today_working_s", "today_standby_s", "last_seen_at", "changed_at",
    "expected_interval_s", "member_name", "alert",
}


@tagged("post_install", "-at_install")
class TestLiveState(WorkshopIotCase):
    def _status(self, devices, config_version=1):
        params = {
            "worker_uid": self.worker.worker_uid, "config_version": config_version, "full": False,
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 3, "oldest_pending_s": 1.5,
                       "dead_letters": 0, "uptime_s": 60.0, "software_version": "0.1.0"},
            "devices": devices,
        }
        return self.env["workshop.worker"].with_user(self.worker_user).sudo()._rpc_status(params)

    def _live(self, device, state, changed_at, **kw):
        item = {"device_id": device.device_id, "state": state, "power_w": 320.0, "session_id": None,
                "session_started_at": None, "session_working_s": 0.0, "session_standby_s": 0.0,
                "last_seen_at": wire_ts(changed_at), "changed_at": wire_ts(changed_at)}
        item.update(kw)
        return item

    def test_event_updates_live_state_and_notifies_the_companys_dashboard_channel(self):
        uid = self.new_session()
        with capture_bus(self.env) as sent:
            self.ingest_and_fold([self.events.started(self.device, 1, uid, offset_s=5)])
        self.assertEqual(self.device.live_state, "working")
        self.assertEqual(self.device.live_session_id, uid)
        ours = [s for s in sent if s[1] == BUS_TYPE]
        self.assertEqual(len(ours), 1)
        target, _type, payload = ours[0]
        self.assertEqual(target, (self.device.company_id, DASHBOARD_SUBCHANNEL))
        self.assertEqual(set(payload), DASHBOARD_KEYS)
        self.assertEqual(payload["session_id"], uid)
        self.assertEqual(payload["state"], "working")
        self.assertTrue(payload["session_started_at"].endswith("Z"))

    def test_older_news_does_not_override_newer_state(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 3, uid, 120, 100.0, 0.0)])
        self.assertEqual(self.device.live_state, "idle")
        with capture_bus(self.env) as sent:
            self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 60, 50.0, 0.0)])
        self.assertEqual(self.device.live_state, "idle")
        self.assertFalse([s for s in sent if s[1] == BUS_TYPE])

    def test_worker_status_updates_health_and_live_state(self):
        now = fields.Datetime.now().replace(microsecond=0)
        with capture_bus(self.env) as sent:
            result = self._status([self._live(self.device, "standby", now), self._live(self.device2, "offline", now),
                                   self._live(self.device2, "idle", now - timedelta(hours=1)) | {"device_id": "nope"}])
        self.assertEqual(result, {"ok": True, "config_version": self.worker.config_version})
        self.assertEqual((self.device.live_state, self.device2.live_state), ("standby", "offline"))
        self.assertEqual(self.worker.outbox_depth, 3)
        self.assertEqual(self.worker.status, "online")
        self.assertEqual(len([s for s in sent if s[1] == BUS_TYPE]), 2)
        # Same report again: nothing changed, nothing sent.
        with capture_bus(self.env) as sent:
            self._status([self._live(self.device, "standby", now)])
        self.assertFalse([s for s in sent if s[1] == BUS_TYPE])

    def test_dashboard_machines_shape_and_today_totals(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 120, 90.0, 30.0)])
        with patch.object(type(self.env["workshop.device"]), "_workshop_midnight_utc",
                          lambda self, now=None: fields.Datetime.now() - timedelta(hours=1)):
            machines = self.env["workshop.device"].with_user(self.staff).dashboard_machines()
        by_id = {m["device_id"]: m for m in machines}
        laser = by_id["shelly-laser"]
        self.assertEqual(set(laser), DASHBOARD_KEYS)
        self.assertEqual((laser["today_working_s"], laser["today_standby_s"]), (90.0, 30.0))
        self.assertEqual(laser["area"], "Hall A")
        self.assertIsNone(by_id["tasmota-lathe"]["area"])
        self.assertEqual(laser["state"], "idle")

    def test_worker_status_stores_the_usual_interval_and_the_payload_carries_it(self):
        """Issue 14 finding 7: the meter's usual interval, observed by the worker, reaches the tile."""
        now = fields.Datetime.now().replace(microsecond=0)
        with capture_bus(self.env) as sent:
            self._status([self._live(self.device, "standby", now, expected_interval_s=60.0)])
        self.assertEqual(self.device.live_expected_interval_s, 60.0)
        payload = [s[2] for s in sent if s[1] == BUS_TYPE][-1]
        self.assertEqual(payload["expected_interval_s"], 60.0)
        # A worker that does not send it (older version) keeps what was learnt.
        self._status([self._live(self.device, "idle", now + timedelta(seconds=1))])
        self.assertEqual(self.device.live_expected_interval_s, 60.0)
        # Never reported: the machine's message timeout stands in for it.
        machines = {m["device_id"]: m for m in self.env["workshop.device"].with_user(self.staff).dashboard_machines()}
        self.assertEqual(machines["tasmota-lathe"]["expected_interval_s"], float(self.device2.message_timeout_s))

    def test_dashboard_has_no_power_for_a_meter_never_heard_from_or_offline(self):
        """Issue 14 finding 5: "—" on the tile, not "0 W" (the stored 0.0 is no reading)."""
        now = fields.Datetime.now().replace(microsecond=0)
        self._status([self._live(self.device, "offline", now, power_w=None)])
        machines = {m["device_id"]: m for m in self.env["workshop.device"].with_user(self.staff).dashboard_machines()}
        never = machines["tasmota-lathe"]
        self.assertEqual((never["state"], never["power_w"], never["last_seen_at"]), ("unknown", None, None))
        self.assertIsNone(machines["shelly-laser"]["power_w"])
        self._status([self._live(self.device, "idle", now + timedelta(seconds=1), power_w=0.0)])
        machines = {m["device_id"]: m for m in self.env["workshop.device"].with_user(self.staff).dashboard_machines()}
        self.assertEqual(machines["shelly-laser"]["power_w"], 0.0)  # a real reading of 0 W stays

    def test_session_before_midnight_counts_pro_rata(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 120, 120.0, 0.0)])
        midnight = self.events.at(60)  # half of the session is "today"
        with patch.object(type(self.env["workshop.device"]), "_workshop_midnight_utc", lambda self, now=None: midnight):
            totals = self.device._today_totals()
        self.assertAlmostEqual(totals[self.device.id][0], 60.0)

    def test_workshop_timezone_parameter(self):
        self.env["ir.config_parameter"].set_param("workshop_iot.timezone", "Europe/Brussels")
        midnight = self.env["workshop.device"]._workshop_midnight_utc(
            fields.Datetime.to_datetime("2026-07-01 12:00:00"),
        )
        self.assertEqual(midnight, fields.Datetime.to_datetime("2026-06-30 22:00:00"))
