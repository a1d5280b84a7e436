from odoo import SUPERUSER_ID, api
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL

from ..tools.exceptions import RpcException
from .common import race_after_commit
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


@tagged("post_install", "-at_install")
class TestRpcRegistrationRace(TransactionCase):
    """Two first calls of one new user at once, with different uids, in two real transactions
    (committed rows, removed at the end): only one worker is registered."""

    def test_two_first_calls_at_once_register_one_worker(self):
        with self.registry.cursor() as cr0:
            uid = new_test_user(api.Environment(cr0, SUPERUSER_ID, {}), login="wiot-reg-race",
                                groups="workshop_iot.workshop_iot_group_worker").id
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            model1 = api.Environment(cr1, uid, {})["workshop.worker"].sudo()
            model2 = api.Environment(cr2, uid, {})["workshop.worker"].sudo()
            cr2.execute("SELECT 1")  # the second transaction's snapshot predates the first's commit
            self.assertEqual(model1._rpc_worker_for("wk-race-1").worker_uid, "wk-race-1")
            outcome = race_after_commit(self, cr1, lambda: model2._rpc_worker_for("wk-race-2"))
            self.assertIsInstance(outcome.get("error"), PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
            cr2.rollback()  # what service.model.retrying does before calling again
            model2.env.invalidate_all()
            with self.assertRaises(RpcException) as refused:
                model2._rpc_worker_for("wk-race-2")
            self.assertEqual(refused.exception.error.code, "WORKER_REGISTRATION_REFUSED")
            cr2.rollback()
        finally:
            cr1.close()
            cr2.close()
            with self.registry.cursor() as cr3:
                cr3.execute(SQL("DELETE FROM workshop_worker WHERE user_id = %s", uid))
                user = api.Environment(cr3, SUPERUSER_ID, {})["res.users"].browse(uid)
                partner = user.partner_id
                user.unlink()
                partner.unlink()
