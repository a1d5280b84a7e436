from odoo.tests import tagged

from .rpc_http_common import RpcHttpCase

STATUS_HEALTH = {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                 "dead_letters": 0, "uptime_s": 1.0, "software_version": "0.1.0"}


@tagged("post_install", "-at_install")
class TestRpcRegistration(RpcHttpCase):
    """Finding 7 of issue 12: a key reports only for the workers bound to its user; it never claims
    an unbound record, and registers at most one worker of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.key = cls.new_worker_user("wiot-reg")
        Worker = cls.env["workshop.worker"]
        cls.worker = Worker.create({"name": "Bound", "worker_uid": "wk-reg", "user_id": cls.user.id})
        cls.unbound = Worker.create({"name": "Unbound", "worker_uid": "wk-reg-unbound"})

    def hello(self, key, worker_uid):
        return self.rpc(key, "worker.hello", {"worker_uid": worker_uid, "software_version": "0.1.0",
                                              "config_version": 0, "started_at": "2026-01-01T00:00:00Z"})

    def assertCode(self, doc, code):
        self.assertEqual(doc.get("error", {}).get("data", {}).get("code"), code, doc)

    def workers(self, worker_uid):
        return self.env["workshop.worker"].with_context(active_test=False).search([("worker_uid", "=", worker_uid)])

    def test_a_key_never_claims_an_unbound_worker(self):
        self.assertCode(self.hello(self.key, "wk-reg-unbound"), "WORKER_FORBIDDEN")
        ingest = self.rpc(self.key, "events.ingest", {"worker_uid": "wk-reg-unbound", "events": [{}]})
        self.assertCode(ingest, "WORKER_FORBIDDEN")
        self.env.invalidate_all()
        self.assertFalse(self.unbound.user_id)

    def test_a_user_with_a_worker_cannot_register_another(self):
        self.assertCode(self.hello(self.key, "wk-reg-extra"), "WORKER_REGISTRATION_REFUSED")
        status = self.rpc(self.key, "worker.status", {"worker_uid": "wk-reg-extra2", "config_version": 0,
                                                      "full": True, "devices": [], "health": STATUS_HEALTH})
        self.assertCode(status, "WORKER_REGISTRATION_REFUSED")
        self.assertFalse(self.workers("wk-reg-extra") | self.workers("wk-reg-extra2"))
        self.assertIn("result", self.hello(self.key, "wk-reg"), "its own worker still reports")

    def test_an_archived_worker_still_counts(self):
        user, key = self.new_worker_user("wiot-reg-archived")
        self.env["workshop.worker"].create(
            {"name": "Old", "worker_uid": "wk-reg-old", "user_id": user.id, "active": False})
        self.assertCode(self.hello(key, "wk-reg-old"), "WORKER_FORBIDDEN")
        self.assertCode(self.hello(key, "wk-reg-fresh"), "WORKER_REGISTRATION_REFUSED")

    def test_a_new_user_registers_exactly_one_worker(self):
        user, key = self.new_worker_user("wiot-reg-new")
        first = self.hello(key, "wk-reg-new-1")
        self.assertEqual(self.workers("wk-reg-new-1").user_id, user)
        self.assertEqual(first["result"]["worker_id"], self.workers("wk-reg-new-1").id)
        self.assertCode(self.hello(key, "wk-reg-new-2"), "WORKER_REGISTRATION_REFUSED")
        self.assertFalse(self.workers("wk-reg-new-2"))
        self.assertIn("result", self.hello(key, "wk-reg-new-1"))

    def test_an_administrator_binds_further_workers(self):
        self.unbound.user_id = self.user  # what 'Generate Odoo API key' does for an existing user
        self.assertIn("result", self.hello(self.key, "wk-reg-unbound"))
        self.assertIn("result", self.hello(self.key, "wk-reg"))
