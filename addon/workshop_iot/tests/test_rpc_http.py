import json
import threading
import uuid
from unittest.mock import patch

import requests

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers import workshop_iot as controller
from ..schema import generated
from ..models.workshop_event_fold import FOLD_CRON
from ..tools.login_log import refused_logins
from .common import EventFactory, fold_pending
from .rpc_http_common import REFUSAL_LOGGER

URL = "/workshop_iot/rpc"


@tagged("post_install", "-at_install")
class TestRpcHttp(HttpCase):
    """The ingest route over real HTTP with real API keys (bearer auth of Odoo 18)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.worker_user = new_test_user(
            cls.env,
            login="wiot-http-worker",
            groups="workshop_iot.workshop_iot_group_worker",
        )
        cls.internal_user = new_test_user(cls.env, login="wiot-http-internal", groups="base.group_user")
        cls.key = cls.env["res.users.apikeys"].with_user(cls.worker_user).sudo()._generate(None, "test", None)
        cls.internal_key = cls.env["res.users.apikeys"].with_user(cls.internal_user).sudo()._generate(
            None,
            "test",
            None,
        )
        cls.worker = cls.env["workshop.worker"].create(
            {"name": "HTTP worker", "worker_uid": "wk-http", "user_id": cls.worker_user.id})
        cls.device = cls.env["workshop.device"].create(
            {"name": "Drill", "device_id": "shelly-drill", "topic": "shelly-drill", "worker_id": cls.worker.id})
        cls.events = EventFactory("wk-http", fields.Datetime.now().replace(microsecond=0))

    def setUp(self):
        super().setUp()
        refused_logins.clear()  # refusals are logged once per address and minute
        self.addCleanup(refused_logins.clear)

    def post(self, body, key=None, raw=False, headers=None):
        data = body if raw else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"}
        if key is not False:
            all_headers["Authorization"] = "Bearer %s" % (key or self.key)
        all_headers.update(headers or {})
        return self.url_open(URL, data=data, headers=all_headers)

    def call(self, method, params, call_id=1):
        return {"jsonrpc": "2.0", "id": call_id, "method": method, "params": params}

    def ingest_call(self, events, call_id=1):
        return self.call("events.ingest", {"worker_uid": "wk-http", "events": events}, call_id)

    def assertNoTraceback(self, response):
        self.assertNotIn("Traceback", response.text)
        self.assertNotIn('File "', response.text)

    def test_valid_batch_and_duplicates(self):
        session = str(uuid.uuid4())
        events = [self.events.started(self.device, 1, session),
                  self.events.heartbeat(self.device, 2, session, 0, 0.0, 0.0)]
        response = self.post(self.ingest_call(events))
        self.assertEqual(response.status_code, 200)
        doc = response.json()
        self.assertEqual(generated.validate_events_ingest_result(doc["result"]), [])
        self.assertEqual([r["status"] for r in doc["result"]["results"]], ["accepted", "accepted"])
        again = self.post(self.ingest_call(events)).json()
        self.assertEqual([r["status"] for r in again["result"]["results"]], ["duplicate", "duplicate"])
        self.assertEqual(fold_pending(self.env), 2)
        self.assertEqual(self.env["workshop.session"].search_count([("session_uid", "=", session)]), 1)

    def test_ingest_answers_before_the_fold_and_triggers_it(self):
        cron = self.env.ref(FOLD_CRON)
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        session = str(uuid.uuid4())
        doc = self.post(self.ingest_call([self.events.started(self.device, 1, session)])).json()
        self.assertEqual(doc["result"]["results"][0]["status"], "accepted")
        self.env.invalidate_all()
        event = self.env["workshop.event"].search([("session_uid", "=", session)])
        self.assertEqual(event.state, "pending")
        self.assertFalse(self.env["workshop.session"].search_count([("session_uid", "=", session)]))
        # The request's commit wrote the trigger (precommit) that wakes the cron threads.
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)
        fold_pending(self.env)
        self.assertEqual(event.state, "processed")
        self.assertEqual(self.env["workshop.session"].search_count([("session_uid", "=", session)]), 1)

    def test_mixed_good_and_bad_items(self):
        bad = self.events.started(self.device, 2, str(uuid.uuid4()))
        bad["payload"]["state"] = "dancing"
        events = [self.events.started(self.device, 1, str(uuid.uuid4())), bad, {"not": "an event"}]
        doc = self.post(self.ingest_call(events)).json()
        results = doc["result"]["results"]
        self.assertEqual([r["status"] for r in results], ["accepted", "rejected", "rejected"])
        self.assertEqual(results[1]["code"], "EVENT_INVALID")
        self.assertTrue(any(e["path"] == "/payload/state" for e in results[1]["errors"]))
        self.assertIsNone(results[2]["event_uid"])

    def test_json_rpc_batch_of_methods(self):
        hello = self.call("worker.hello", {"worker_uid": "wk-http", "software_version": "0.1.0", "config_version": 0,
                                           "started_at": "2026-01-01T00:00:00Z"}, "a")
        notification = dict(self.ingest_call([self.events.online(self.device, 1, 0)]))
        del notification["id"]
        unknown = self.call("worker.reboot", {}, "c")
        doc = self.post([hello, notification, unknown]).json()
        self.assertEqual([r["id"] for r in doc], ["a", "c"], "notifications get no response")
        self.assertEqual(generated.validate_worker_hello_result(doc[0]["result"]), [])
        self.assertEqual(doc[1]["error"]["code"], -32601)
        self.assertEqual(self.env["workshop.event"].search_count([("worker_uid", "=", "wk-http")]), 1)

    def test_notification_only_gives_204(self):
        call = self.ingest_call([self.events.online(self.device, 1, 0)])
        del call["id"]
        response = self.post(call)
        self.assertEqual(response.status_code, 204)

    def test_wrong_key_is_401_json(self):
        with mute_logger("odoo.http"), self.assertLogs(REFUSAL_LOGGER, "WARNING"):
            response = self.post(self.ingest_call([]), key="0" * 40)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"]["code"], -32001)
        self.assertEqual(response.json()["error"]["data"]["code"], "UNAUTHENTICATED")

    def test_missing_key_is_401(self):
        with mute_logger("odoo.http"), self.assertLogs(REFUSAL_LOGGER, "WARNING"):
            response = self.post(self.ingest_call([]), key=False)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"]["code"], -32001)

    def test_user_without_worker_group_is_403(self):
        with self.assertLogs(REFUSAL_LOGGER, "WARNING"):
            response = self.post(self.ingest_call([]), key=self.internal_key)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"]["data"]["code"], "FORBIDDEN")

    def test_worker_uid_of_another_user_is_refused(self):
        other = new_test_user(self.env, login="wiot-http-other", groups="workshop_iot.workshop_iot_group_worker")
        key = self.env["res.users.apikeys"].with_user(other).sudo()._generate(None, "other", None)
        doc = self.post(self.ingest_call([self.events.online(self.device, 1, 0)]), key=key).json()
        self.assertEqual(doc["error"]["data"]["code"], "WORKER_FORBIDDEN")

    def test_malformed_json(self):
        response = self.post(b'{"jsonrpc": "2.0", "method": ', raw=True)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"jsonrpc": "2.0", "id": None, "error": {
            "code": -32700, "message": "Request body is not valid JSON", "data": {"code": "PARSE_ERROR"}}})

    def test_invalid_requests(self):
        self.assertEqual(self.post([]).json()["error"]["code"], -32600)
        self.assertEqual(self.post({"id": 3, "method": "worker.hello"}).json()["error"]["code"], -32600)
        self.assertEqual(self.post({"jsonrpc": "2.0", "id": 3, "method": 7}).json()["id"], 3)
        self.assertEqual(self.post([1]).json()[0]["error"]["code"], -32600)
        too_many = [self.call("worker.reboot", {}, n) for n in range(controller.MAX_BATCH_CALLS + 1)]
        self.assertEqual(self.post(too_many).json()["error"]["data"]["code"], "BATCH_TOO_LARGE")

    def test_unknown_method(self):
        doc = self.post(self.call("worker.reboot", {}, 42)).json()
        self.assertEqual((doc["id"], doc["error"]["code"]), (42, -32601))

    def test_invalid_params_have_field_errors(self):
        doc = self.post(self.call("events.ingest", {"worker_uid": "wk-http", "events": []}, 5)).json()
        self.assertEqual(doc["error"]["code"], -32602)
        self.assertEqual(doc["error"]["data"]["errors"][0]["path"], "/events")

    def test_oversized_body_is_413(self):
        with patch.object(controller, "MAX_BODY_BYTES", 2048):
            response = self.post(self.ingest_call([{"pad": "x" * 4096}]))
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"]["data"]["code"], "PAYLOAD_TOO_LARGE")

    def test_internal_error_hides_the_stack_trace(self):
        def boom(self, params):
            raise ZeroDivisionError("secret detail")

        status = self.call("worker.status", {
            "worker_uid": "wk-http", "config_version": 0, "full": True, "devices": [],
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                       "dead_letters": 0, "uptime_s": 1.0, "software_version": "0.1.0"}})
        with patch.object(type(self.env["workshop.worker"]), "_rpc_status", boom), \
                mute_logger("odoo.addons.workshop_iot.controllers.workshop_iot"):
            response = self.post(status)
        doc = response.json()
        self.assertEqual(doc["error"]["code"], -32603)
        self.assertNotIn("secret detail", response.text)
        self.assertNoTraceback(response)
        ok = self.post(dict(status, id=2)).json()
        self.assertEqual(ok["result"]["ok"], True)

    def test_same_event_posted_concurrently(self):
        event = self.events.started(self.device, 1, str(uuid.uuid4()))
        statuses, codes = [], []

        body = json.dumps(self.ingest_call([event])).encode()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer %s" % self.key}
        # Plain requests, not self.url_open: HttpCase's opener flushes and clears the test cursor
        # before each request, which from two threads at once races with the other request's use
        # of that cursor (seen as a request running with a corrupted environment).
        self.env.flush_all()

        def post():
            response = requests.post(self.base_url() + URL, data=body, headers=headers, timeout=30)
            codes.append(response.status_code)
            statuses.append(response.json()["result"]["results"][0]["status"])

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(codes, [200, 200])
        self.assertEqual(sorted(statuses), ["accepted", "duplicate"])
        self.assertEqual(self.env["workshop.event"].search_count([("event_uid", "=", event["event_uid"])]), 1)
