"""Guided "Connect a worker" in a real browser (issue 14, finding 5): an administrator opens the
Workers list, clicks *Connect a worker*, names the worker, sees its token and API key once with the
settings file and the .env lines, moves on to "Waiting for the worker…", and the dialog turns green
when the worker says hello, without a reload (tour ``static/tests/tours/connect_worker_tour.js``).

The worker's hello is a real ``worker.hello`` over HTTP with the API key the dialog showed, sent
from a thread (``requests``, not the HttpCase opener, which belongs to the test thread) once the tour
reports that it waits on step 3 (a console line; see ``WAITING``)."""

import logging
import re
import threading

import requests

from odoo.tests import HttpCase, tagged
from odoo.tests.common import HOST
from odoo.tools import config

from .rpc_http_common import URL

# Printed by the tour once step 3 shows "Waiting for the worker…", with the key step 2 showed.
WAITING = re.compile(r"workshop_iot connect tour: waiting for (?P<uid>\S+) with key (?P<key>\S+)")


class _TourSignal(logging.Handler):
    """Catches the tour's WAITING console line (Odoo's test browser logs console.info at INFO)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seen = threading.Event()
        self.match = None

    def emit(self, record):
        match = WAITING.search(record.getMessage())
        if match and not self.seen.is_set():
            self.match = match
            self.seen.set()


@tagged("post_install", "-at_install")
class TestConnectWorkerTour(HttpCase):
    def _worker_says_hello(self, signal, outcome):
        """The worker's side: wait for the tour's signal, then worker.hello with the shown key."""
        if not signal.seen.wait(120):
            outcome["error"] = "the tour never reached step 3"
            return
        uid, key = signal.match["uid"], signal.match["key"]
        try:
            response = requests.post(
                "http://%s:%s%s" % (HOST, config["http_port"], URL),
                json={"jsonrpc": "2.0", "id": 1, "method": "worker.hello", "params": {
                    "worker_uid": uid, "software_version": "0.1.0", "config_version": 0,
                    "started_at": "2026-01-01T00:00:00Z"}},
                headers={"Authorization": "Bearer %s" % key}, timeout=60)
            outcome["hello"] = (response.status_code, response.json())
        except Exception as exc:  # noqa: BLE001 - reported by the test thread
            outcome["error"] = repr(exc)

    def test_admin_connects_a_worker_and_sees_its_first_hello(self):
        signal, outcome = _TourSignal(), {}
        logger = logging.getLogger(type(self).__module__)
        logger.addHandler(signal)
        self.addCleanup(logger.removeHandler, signal)
        thread = threading.Thread(target=self._worker_says_hello, args=(signal, outcome), daemon=True)
        thread.start()
        self.start_tour("/odoo/action-workshop_iot.workshop_worker_action", "workshop_iot_connect_worker",
                        login="admin", timeout=180)
        thread.join(60)
        self.assertNotIn("error", outcome)
        status, doc = outcome["hello"]
        self.assertEqual(status, 200)
        self.assertIn("result", doc, doc)
        self.env.invalidate_all()
        worker = self.env["workshop.worker"].search([("worker_uid", "=", "tour-bench")])
        self.assertEqual(signal.match["uid"], "tour-bench")
        self.assertEqual(doc["result"]["worker_id"], worker.id)
        self.assertEqual(worker.status, "online")
        self.assertTrue(worker.last_hello_at)
        self.assertTrue(worker.sudo().token)
        self.assertEqual(self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=signal.match["key"]),
                         worker.user_id.id)
        # The wizard kept no secret: no stored field of it can hold one.
        stored = {name for name, field in self.env["workshop.worker.connect"]._fields.items() if field.store}
        self.assertTrue(stored.isdisjoint({"token", "api_key", "settings_file", "env_lines"}))
