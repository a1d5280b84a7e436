"""Issue 14 findings 1 and 2: a worker that confirms Odoo's config settles a failing push, and a
failed call to a worker reads as what happened and what to do, the technical cause kept apart."""

from datetime import timedelta

import requests

from odoo import fields
from odoo.tests import tagged

from .common import FakeResponse, WorkshopIotCase, mock_worker

# The worker models log from workshop_worker.py (push) and workshop_worker_health.py (health).
WORKER_LOGGER = "odoo.addons.workshop_iot.models"
RAW_REFUSED = (
    "HTTPConnectionPool(host='worker.test', port=8787): Max retries exceeded with url: /rpc (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7faa12345678>: Failed to establish a "
    "new connection: [Errno 111] Connection refused'))"
)


@tagged("post_install", "-at_install")
class TestPushSettledByWorker(WorkshopIotCase):
    def setUp(self):
        super().setUp()
        self.worker.sudo().write({
            "push_state": "retry", "push_attempts": 11, "push_next_at": fields.Datetime.now() + timedelta(hours=1),
            "push_error": "Cannot reach the worker", "push_error_detail": "ConnectionError: ...",
        })
        self.model = self.env["workshop.worker"].with_user(self.worker_user).sudo()

    def hello(self, version):
        return self.model._rpc_hello({"worker_uid": "wk-test", "software_version": "0.1.0",
                                      "started_at": "2026-01-01T00:00:00Z", "config_version": version})

    def assert_settled(self):
        w = self.worker
        self.assertEqual((w.push_state, w.push_attempts, w.push_next_at, w.push_error, w.push_error_detail),
                         ("ok", 0, False, False, False))
        failing = self.env["workshop.worker"].search([("push_state", "in", ("retry", "failed"))])
        self.assertNotIn(w, failing, "no match for the 'Push failing' filter any more")

    def test_hello_with_current_version_settles_the_push(self):
        self.hello(self.worker.config_version)
        self.assertTrue(self.worker.config_in_sync)
        self.assert_settled()

    def test_hello_with_older_version_leaves_the_retry(self):
        self.hello(self.worker.config_version - 1)
        self.assertEqual((self.worker.push_state, self.worker.push_attempts), ("retry", 11))
        self.assertTrue(self.worker.push_error)

    def test_status_report_with_current_version_settles_the_push(self):
        self.model._rpc_status({
            "worker_uid": "wk-test", "config_version": self.worker.config_version, "full": False,
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                       "dead_letters": 0, "uptime_s": 60.0, "software_version": "0.1.0"},
            "devices": [],
        })
        self.assert_settled()


@tagged("post_install", "-at_install")
class TestWorkerErrorMessages(WorkshopIotCase):
    def push_fails_with(self, outcome):
        """Push the config to a worker answering ``outcome``; returns (push_error, detail, log line)."""
        with mock_worker(lambda method, params: outcome), \
                self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            self.worker._push_config()
        self.assertEqual(len(logs.output), 1, "one WARNING line per failure")
        return self.worker.push_error, self.worker.push_error_detail, logs.output[0]

    def assert_readable(self, message):
        for raw in ("Error:", "HTTPConnectionPool", "object at 0x", "Traceback"):
            self.assertNotIn(raw, message)

    def test_connection_refused(self):
        message, detail, log = self.push_fails_with(requests.ConnectionError(RAW_REFUSED))
        self.assertEqual(
            message,
            "Cannot reach the worker at http://worker.test:8787 (connection refused) — is it running?",
        )
        self.assertIn("ConnectionError: HTTPConnectionPool", detail)
        self.assertIn("ConnectionError: HTTPConnectionPool", log)
        self.assertEqual(self.worker.push_state, "retry")

    def test_unknown_host(self):
        message, _detail, _log = self.push_fails_with(requests.ConnectionError(
            "HTTPConnectionPool(host='nohost', port=8787): Max retries exceeded (Caused by NameResolutionError("
            "\"<urllib3.connection.HTTPConnection object at 0x7f>: Failed to resolve 'nohost'\"))"))
        self.assertIn("(unknown host name) — check the worker URL", message)
        self.assert_readable(message)

    def test_timeouts(self):
        message, detail, _log = self.push_fails_with(requests.exceptions.ConnectTimeout("connect timed out"))
        self.assertIn("did not accept the connection within 10 s", message)
        self.assertIn("ConnectTimeout", detail)
        message, detail, _log = self.push_fails_with(
            requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)"),
        )
        self.assertIn("did not answer within 10 s", message)
        self.assertIn("ReadTimeout", detail)
        self.assert_readable(message)

    def test_tls_error(self):
        message, detail, _log = self.push_fails_with(requests.exceptions.SSLError(
            "HTTPSConnectionPool(host='worker.test', port=8787): [SSL: WRONG_VERSION_NUMBER] wrong version number"))
        self.assertIn("TLS with the worker at http://worker.test:8787 failed", message)
        self.assertIn("SSLError", detail)
        self.assert_readable(message)

    def test_token_refused(self):
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": "Unauthorized"}}
        message, detail, log = self.push_fails_with(FakeResponse(401, body))
        self.assertIn("refused Odoo's token (HTTP 401) — set the same token on both sides", message)
        self.assertIn("HTTP 401 from http://worker.test:8787/rpc", detail)
        self.assertIn("HTTP 401", log)
        self.assertNotIn("t" * 32, detail + log, "the token never reaches the log")

    def test_server_error_and_other_http(self):
        message, detail, _log = self.push_fails_with(FakeResponse(503, None))
        self.assertIn("failed with HTTP 503 — see the worker's log", message)
        self.assertEqual(detail, "HTTP 503 from http://worker.test:8787/rpc")
        message, _detail, _log = self.push_fails_with(FakeResponse(404, None))
        self.assertIn("answered HTTP 404 — check the worker URL", message)

    def test_answer_not_json_rpc(self):
        message, detail, _log = self.push_fails_with(FakeResponse(200, None))
        self.assertIn("is not a worker's answer", message)
        self.assertIn("not JSON", detail)
        message, detail, _log = self.push_fails_with(FakeResponse(200, {"hello": "world"}))
        self.assertIn("JSON without result", detail)

    def test_jsonrpc_error_keeps_message_and_code(self):
        message, detail, _log = self.push_fails_with(
            {"error": {"code": -32602, "message": "Invalid config: devices/0/topic", "data": {"errors": []}}})
        self.assertEqual(message, "The worker refused config.apply: Invalid config: devices/0/topic (code -32602).")
        self.assertIn("JSON-RPC error -32602", detail)

    def test_health_error_and_toast(self):
        self.worker.last_seen_at = fields.Datetime.now() - timedelta(hours=1)
        with mock_worker(lambda method, params: requests.ConnectionError(RAW_REFUSED)), \
                self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            action = self.worker.with_user(self.manager).action_check_health()
        self.assertEqual(len(logs.output), 1)
        self.assertIn("Health check of worker wk-test failed: ConnectionError", logs.output[0])
        params = action["params"]
        self.assertEqual(params["type"], "danger")
        self.assertFalse(params["sticky"], "danger toasts fade: the error stays on the form")
        self.assertIn("Cannot reach the worker at http://worker.test:8787 (connection refused)", params["message"])
        self.assert_readable(params["message"])
        self.assertEqual(self.worker.health_error, params["message"])
        self.assertIn("object at 0x7faa", self.worker.health_error_detail)
