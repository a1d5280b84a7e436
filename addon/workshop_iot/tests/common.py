import contextlib
import json
import threading
import uuid
from datetime import timedelta
from unittest.mock import patch

import requests

from odoo import fields
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import mute_logger

from ..tools import worker_client
from ..tools.timeutil import to_wire_ts


def wire_ts(value):
    return to_wire_ts(value)


class EventFactory:
    """Builds wire events (shared/src/contracts/events.ts) with a per-device seq, so tests state only
    what matters to them. Decouples the tests from a running worker."""

    def __init__(self, worker_uid, t0):
        self.worker_uid = worker_uid
        self.t0 = t0

    def at(self, offset_s):
        return self.t0 + timedelta(seconds=offset_s)

    def event(self, kind, device, seq, payload, offset_s=0, occurred_at=None):
        return {
            "event_uid": str(uuid.uuid4()),
            "type": kind,
            "device_id": device.device_id if hasattr(device, "device_id") else device,
            "worker_uid": self.worker_uid,
            "seq": seq,
            "occurred_at": wire_ts(occurred_at or self.at(offset_s)),
            "payload": payload,
        }

    def started(self, device, seq, session, offset_s=0, state="working", power_w=500.0, **kw):
        payload = {"session_id": session, "started_at": wire_ts(self.at(0)), "state": state, "power_w": power_w}
        return self.event("session_started", device, seq, payload, offset_s, **kw)

    def heartbeat(self, device, seq, session, offset_s, working_s, standby_s, total_s=None, **kw):
        total_s = working_s + standby_s if total_s is None else total_s
        payload = {
            "session_id": session, "started_at": wire_ts(self.at(0)),
            "interval_start": wire_ts(self.at(max(offset_s - 60, 0))), "interval_end": wire_ts(self.at(offset_s)),
            "interval_working_s": 0.0, "interval_standby_s": 0.0,
            "working_s": working_s, "standby_s": standby_s, "total_s": total_s,
            "state": "working", "power_w": 480.0, "interval_energy_wh": None, "energy_wh": None,
        }
        return self.event("session_heartbeat", device, seq, payload, offset_s, **kw)

    def stopped(self, device, seq, session, offset_s, working_s, standby_s, reason="power_off", energy_wh=None, **kw):
        payload = {
            "session_id": session, "started_at": wire_ts(self.at(0)), "ended_at": wire_ts(self.at(offset_s)),
            "reason": reason, "working_s": working_s, "standby_s": standby_s,
            "total_s": float(offset_s), "energy_wh": energy_wh,
        }
        return self.event("session_stopped", device, seq, payload, offset_s, **kw)

    def online(self, device, seq, offset_s, state="idle", power_w=0.0, **kw):
        return self.event("device_online", device, seq, {"state": state, "power_w": power_w}, offset_s, **kw)

    def offline(self, device, seq, offset_s, **kw):
        payload = {"reason": "poll_unanswered", "last_seen_at": wire_ts(self.at(max(offset_s - 30, 0)))}
        return self.event("device_offline", device, seq, payload, offset_s, **kw)


class FakeResponse:
    """Minimal ``requests.Response`` stand-in returned by ``mock_worker``."""

    def __init__(self, status_code, doc):
        self.status_code = status_code
        self._doc = doc

    def json(self):
        if self._doc is None:
            raise ValueError("no JSON")
        return self._doc


@contextlib.contextmanager
def mock_worker(handler):
    """Replace the HTTP transport of ``tools/worker_client`` by ``handler(method, params) -> result``
    (or an exception to raise: ``requests.ConnectionError`` for an unreachable worker, a dict
    ``{"error": {...}}`` for a JSON-RPC error, a ``FakeResponse`` for any other HTTP answer). Decouples
    config push and health tests from a real worker process; yields the list of calls as
    ``(url, method, params, headers)``."""
    calls = []

    def fake_post(url, json=None, headers=None, timeout=None):
        assert timeout and timeout <= 10, "every call to a worker must be bounded by 10 s"
        calls.append((url, json["method"], json["params"], headers))
        outcome = handler(json["method"], json["params"])
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, FakeResponse):
            return outcome
        if isinstance(outcome, dict) and "error" in outcome:
            return FakeResponse(200, {"jsonrpc": "2.0", "id": json["id"], **outcome})
        return FakeResponse(200, {"jsonrpc": "2.0", "id": json["id"], "result": outcome})

    with patch.object(worker_client.requests, "post", side_effect=fake_post):
        yield calls


def apply_ok(method, params):
    """``mock_worker`` handler of a healthy worker that applies every config."""
    if method == "config.apply":
        return {"applied": True, "version": params["config"]["version"],
                "changes": {"added": [], "updated": [], "removed": [], "broker_changed": False}}
    raise AssertionError("unexpected method %s" % method)


def unreachable(method, params):
    """``mock_worker`` handler of a worker that is down."""
    return requests.ConnectionError("Connection refused")


@contextlib.contextmanager
def capture_bus(env):
    """Record ``bus.bus._sendone(target, type, message)`` calls instead of queuing them for the
    commit a TransactionCase never does. Decouples live-state tests from the websocket stack."""
    sent = []
    BusBus = type(env["bus.bus"])
    original = BusBus._sendone

    def _sendone(self, target, notification_type, message):
        sent.append((target, notification_type, message))
        return original(self, target, notification_type, message)

    with patch.object(BusBus, "_sendone", _sendone):
        yield sent


def fold_pending(env):
    """Run the fold cron's method until no pending event is left, in the test's transaction (no
    commit). Decouples session and live-state tests from the cron threads and the trigger's
    NOTIFY, which a test transaction never reaches; returns the number of events folded."""
    Event = env["workshop.event"].sudo()
    total = 0
    while True:
        folded = Event._cron_fold_events()
        if not folded:
            return total
        total += folded


# The browser half of our ``browser_js`` tests: an async script with ``settle()`` and a polling
# ``waitFor(check, what)``, ending in Odoo's success line, or a console.error naming the test (which
# fails it). ``@BODY@`` is the test's statements, ``@LABEL@`` its name; see ``browser_script``.
_BROWSER_SCRIPT = """
(async () => {
@CONSTS@    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    async function waitFor(check, what, timeoutMs = 20000) {
        const until = Date.now() + timeoutMs;
        while (Date.now() < until) {
            const value = check();
            if (value) return value;
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`timeout waiting for ${what}`);
    }
    try {
@BODY@
        console.log("test successful");
    } catch (err) {
        console.error(`workshop_iot @LABEL@ test: ${err.message}`);
    }
})();
"""


def browser_script(label, body, **consts):
    """The script for ``HttpCase.browser_js``: ``body`` (JS statements, indented for the try block)
    runs with each of ``consts`` as a JSON ``const`` and the helpers of ``_BROWSER_SCRIPT``.
    Decouples each browser test from the polling and reporting boilerplate."""
    lines = "".join("    const %s = %s;\n" % (name, json.dumps(value)) for name, value in consts.items())
    return (_BROWSER_SCRIPT.replace("@CONSTS@", lines).replace("@LABEL@", label)
            .replace("@BODY@", body.strip("\n")))


def race_after_commit(testcase, first_cr, call):
    """Run ``call`` in a second thread while ``first_cr`` holds its transaction open, assert that it
    waits for that transaction, commit ``first_cr`` and return ``{"result": ...}`` or ``{"error": exc}``.

    Decouples the race tests (two real transactions on one row or unique key) from the thread
    plumbing. The 0.5 s join is the one bounded wait: it proves the call is blocked, not that it ran.
    """
    outcome = {}

    def second():
        try:
            outcome["result"] = call()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts it
            outcome["error"] = exc

    thread = threading.Thread(target=second)
    with mute_logger("odoo.sql_db"):
        thread.start()
        thread.join(0.5)
        testcase.assertTrue(thread.is_alive(), "the second call waits for the first transaction")
        first_cr.commit()
        thread.join(10)
    testcase.assertFalse(thread.is_alive())
    return outcome


class WorkshopIotCase(TransactionCase):
    """Broker, worker, two machines and the three kinds of users, plus event and ingest helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.worker_user = new_test_user(cls.env, login="wiot-worker", groups="workshop_iot.workshop_iot_group_worker")
        cls.manager = new_test_user(cls.env, login="wiot-manager", groups="workshop_iot.workshop_iot_group_manager")
        cls.staff = new_test_user(cls.env, login="wiot-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.broker = cls.env["workshop.broker"].create({"name": "Hall broker", "url": "mqtt://broker.test:1883"})
        cls.worker = cls.env["workshop.worker"].create({
            "name": "Workshop PC", "worker_uid": "wk-test", "url": "http://worker.test:8787",
            "token": "t" * 32, "broker_id": cls.broker.id, "user_id": cls.worker_user.id,
            # A running worker: config is pushed only to a worker that said hello once.
            "last_hello_at": fields.Datetime.now(),
        })
        cls.device = cls.env["workshop.device"].create({
            "name": "Laser", "device_id": "shelly-laser", "topic": "shellyplus1pm-laser",
            "worker_id": cls.worker.id, "area": "Hall A",
        })
        cls.device2 = cls.env["workshop.device"].create({
            "name": "Lathe", "device_id": "tasmota-lathe", "topic": "tasmota_lathe", "parser_type": "tasmota",
            "worker_id": cls.worker.id,
        })
        cls.t0 = fields.Datetime.now().replace(microsecond=0) - timedelta(seconds=200)
        cls.events = EventFactory(cls.worker.worker_uid, cls.t0)

    def setUp(self):
        super().setUp()
        # Pushes queued by the setup data belong to no test.
        self.env.cr.postcommit.clear()

    @staticmethod
    def new_session():
        return str(uuid.uuid4())

    def ingest(self, events):
        """Call events.ingest as the integration user would (handler level, no HTTP)."""
        worker_model = self.env["workshop.worker"].with_user(self.worker_user).sudo()
        result = worker_model._rpc_ingest({"worker_uid": self.worker.worker_uid, "events": events})
        return result["results"]

    def fold_pending(self):
        """Fold what ingest stored (see ``fold_pending``); returns the number of events folded."""
        return fold_pending(self.env)

    def ingest_and_fold(self, events):
        """``ingest`` then ``fold_pending``: for tests about sessions and live state, not about when
        they are computed."""
        results = self.ingest(events)
        self.fold_pending()
        return results

    def session(self, session_uid):
        return self.env["workshop.session"].search([("session_uid", "=", session_uid)])
