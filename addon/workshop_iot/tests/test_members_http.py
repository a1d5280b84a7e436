"""Badge events and cards over real HTTP (issue 16): a worker's key badges only at its own readers
and machines; a workshop user's session cannot read card ids."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import EventFactory, fold_pending
from .rpc_http_common import RpcHttpCase


@tagged("post_install", "-at_install")
class TestBadgeHttp(RpcHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a, cls.key_a = cls.new_worker_user("wiot-badge-a")
        cls.user_b, cls.key_b = cls.new_worker_user("wiot-badge-b")
        Worker, Device = cls.env["workshop.worker"], cls.env["workshop.device"]
        Reader = cls.env["workshop.badge.reader"]
        cls.worker_a = Worker.create({"name": "A", "worker_uid": "wk-badge-a", "user_id": cls.user_a.id})
        cls.worker_b = Worker.create({"name": "B", "worker_uid": "wk-badge-b", "user_id": cls.user_b.id})
        cls.device_a = Device.create({"name": "Mill A", "device_id": "shelly-badge-a", "topic": "shelly-badge-a",
                                      "worker_id": cls.worker_a.id})
        cls.device_b = Device.create({"name": "Mill B", "device_id": "shelly-badge-b", "topic": "shelly-badge-b",
                                      "worker_id": cls.worker_b.id})
        cls.reader_a = Reader.create({"name": "Reader A", "reader_id": "rfid-a", "topic": "rfid_a",
                                      "device_id": cls.device_a.id})
        cls.reader_b = Reader.create({"name": "Reader B", "reader_id": "rfid-b", "topic": "rfid_b",
                                      "device_id": cls.device_b.id})
        cls.member = cls.env["res.partner"].create({"name": "Carla Card"})
        cls.env["workshop.member.card"].create({"partner_id": cls.member.id, "card_id": "A1B2C3D4"})
        cls.staff = new_test_user(cls.env, login="wiot-badge-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.events = EventFactory("wk-badge-a", fields.Datetime.now().replace(microsecond=0) - timedelta(seconds=60))

    def badge(self, reader, machine, seq):
        return self.events.event(
            "badge_presented",
            reader,
            seq,
            {"card_id": "A1B2C3D4", "machine_device_id": machine},
            1,
        )

    def test_badges_only_at_the_workers_own_readers_and_machines(self):
        results = self.ingest(self.key_a, "wk-badge-a", [
            self.badge("rfid-b", "shelly-badge-a", 1),          # another worker's reader
            self.badge("rfid-a", "shelly-badge-b", 2),          # another worker's machine
            self.badge("rfid-a", "shelly-badge-a", 3),
        ])
        self.assertEqual([r["status"] for r in results], ["rejected", "rejected", "accepted"])
        self.assertEqual([r.get("code") for r in results[:2]], ["DEVICE_FORBIDDEN"] * 2)
        self.assertEqual(results[0]["message"], "Machine 'rfid-b' is assigned to another worker")
        self.assertEqual(results[1]["message"], "Machine 'shelly-badge-b' is assigned to another worker")
        fold_pending(self.env)
        stored = self.env["workshop.event"].search([("worker_uid", "=", "wk-badge-a")])
        self.assertEqual((stored.device_key, stored.state, stored.member_id, stored.device_id),
                         ("rfid-a", "processed", self.member, self.device_a))

    def test_a_reader_moved_to_another_worker_is_not_folded_for_the_old_one(self):
        # Stored while the reader was A's, folded after its machine moved to B: not applied for A.
        self.ingest(self.key_a, "wk-badge-a", [self.badge("rfid-a", "shelly-badge-a", 4)])
        self.device_a.worker_id = self.worker_b
        fold_pending(self.env)
        stored = self.env["workshop.event"].search([("worker_uid", "=", "wk-badge-a")])
        self.assertEqual(stored.state, "error")
        self.assertIn("Unknown badge reader 'rfid-a' of worker wk-badge-a", stored.error)

    def test_workshop_user_cannot_read_card_ids_over_rpc(self):
        self.authenticate("wiot-badge-staff", "wiot-badge-staff")
        calls = [("workshop.member.card", "search_read", [[], ["card_id"]]),
                 ("res.partner", "read", [[self.member.id], ["workshop_card_ids"]])]
        with self.assertLogs("odoo.http", "WARNING") as logs:
            for model, method, args in calls:
                body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {
                    "model": model, "method": method, "args": args, "kwargs": {}}})
                answer = self.url_open("/web/dataset/call_kw", data=body,
                                       headers={"Content-Type": "application/json"}).json()
                self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError", (model, answer))
                self.assertNotIn("A1B2C3D4", json.dumps(answer))
        self.assertEqual(len(logs.records), 2)
