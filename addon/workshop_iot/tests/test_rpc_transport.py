import json
from unittest.mock import patch

from werkzeug.serving import DechunkedInput

from odoo import fields
from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from ..controllers import workshop_iot as controller
from ..tools.login_log import RefusalLogLimiter, refused_logins
from .common import EventFactory
from .rpc_http_common import REFUSAL_LOGGER, RpcHttpCase

MB = 1024 * 1024


class CountingReads:
    """Counts the bytes the server takes out of chunked request bodies (``DechunkedInput`` is what
    werkzeug's server hands the WSGI app as ``wsgi.input`` for ``Transfer-Encoding: chunked``)."""

    def __init__(self):
        self.total = 0

    def __enter__(self):
        original = DechunkedInput.readinto
        counter = self

        def readinto(stream, buf):
            n = original(stream, buf)
            counter.total += n or 0
            return n

        self._patch = patch.object(DechunkedInput, "readinto", readinto)
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()


@tagged("post_install", "-at_install")
class TestRpcTransport(RpcHttpCase):
    """Findings 8, 12 and 15 of issue 12: the body is read after the caller is known to be a worker
    and never beyond the cap; malformed JSON, numbers and dates are clean JSON-RPC errors; refused
    logins are logged, rate-limited, without the key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.key = cls.new_worker_user("wiot-transport")
        cls.outsider, cls.outsider_key = cls.new_worker_user("wiot-transport-outsider", groups="base.group_user")
        cls.worker = cls.env["workshop.worker"].create(
            {"name": "Transport", "worker_uid": "wk-transport", "user_id": cls.user.id})
        cls.device = cls.env["workshop.device"].create(
            {"name": "Saw", "device_id": "shelly-saw", "topic": "shelly-saw", "worker_id": cls.worker.id})
        cls.events = EventFactory("wk-transport", fields.Datetime.now().replace(microsecond=0))

    def status_params(self, **overrides):
        params = {"worker_uid": "wk-transport", "config_version": 0, "full": True, "devices": [],
                  "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                             "dead_letters": 0, "uptime_s": 1.0, "software_version": "0.1.0"}}
        params.update(overrides)
        return params

    # ------------------------------------------------------------------ finding 8: auth first, capped stream
    def test_no_group_key_is_refused_before_a_byte_of_a_64_mb_chunked_body_is_read(self):
        with CountingReads() as reads, self.assertLogs(REFUSAL_LOGGER, "WARNING") as logs:
            status, doc = self.post_chunked(self.outsider_key, 64 * MB)
        self.assertEqual((status, doc["error"]["data"]["code"]), (403, "FORBIDDEN"))
        self.assertEqual(reads.total, 0)
        self.assertIn("refused ingest request from 127.0.0.1: user id %s is not in the worker integration group"
                      % self.outsider.id, logs.output[0])
        self.assertNotIn(self.outsider_key, "\n".join(logs.output))

    def test_chunked_body_over_the_cap_is_413_after_at_most_cap_plus_one_bytes(self):
        cap = 64 * 1024
        with patch.object(controller, "MAX_BODY_BYTES", cap), CountingReads() as reads:
            status, doc = self.post_chunked(self.key, 8 * MB)
        self.assertEqual((status, doc["error"]["data"]["code"]), (413, "PAYLOAD_TOO_LARGE"))
        self.assertLessEqual(reads.total, cap + 1)

    def test_chunked_body_under_the_cap_is_served(self):
        call = {"jsonrpc": "2.0", "id": 7, "method": "worker.status", "params": self.status_params()}
        status, doc = self.post_chunked(self.key, 256 * 1024, first=json.dumps(call).encode())
        self.assertEqual(status, 200)
        self.assertEqual((doc["id"], doc["result"]["ok"]), (7, True))

    def test_malformed_chunk_framing_is_a_parse_error(self):
        status, doc = self.post_raw_chunked(self.key, b"zz\r\n{}\r\n0\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(doc["error"]["data"], {"code": "PARSE_ERROR", "reason": "malformed chunked body"})

    def test_form_body_is_refused_unparsed(self):
        response = self.post(
            self.key,
            b"a=1&b=2",
            raw=True,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.assertEqual(response.status_code, 415)
        self.assertEqual(response.json()["error"]["data"]["code"], "UNSUPPORTED_MEDIA_TYPE")

    # ------------------------------------------------------------------ finding 12: clean JSON-RPC errors
    def test_impossible_calendar_dates_are_rejected_per_item(self):
        good = self.events.online(self.device, 1, 0)
        bad_occurred = dict(self.events.online(self.device, 2, 0), occurred_at="2025-02-30T00:00:00Z")
        bad_payload = self.events.started(self.device, 3, "0190a000-0000-7000-8000-000000000001")
        bad_payload["payload"]["started_at"] = "2026-04-31T12:00:00Z"
        results = self.ingest(self.key, "wk-transport", [good, bad_occurred, bad_payload])
        self.assertEqual([r["status"] for r in results], ["accepted", "rejected", "rejected"])
        self.assertEqual([r.get("code") for r in results[1:]], ["EVENT_INVALID", "EVENT_INVALID"])
        self.assertEqual(results[1]["errors"], [{"path": "/occurred_at", "message": "is not a calendar date"}])
        self.assertEqual(results[2]["errors"], [{"path": "/payload/started_at", "message": "is not a calendar date"}])

    def test_impossible_calendar_dates_in_hello_and_status_are_invalid_params(self):
        hello = self.rpc(self.key, "worker.hello", {"worker_uid": "wk-transport", "software_version": "0.1.0",
                                                    "config_version": 0, "started_at": "2026-02-29T00:00:00Z"})
        self.assertEqual(hello["error"]["data"]["code"], "INVALID_PARAMS")
        self.assertEqual(
            hello["error"]["data"]["errors"],
            [{"path": "/started_at", "message": "is not a calendar date"}],
        )
        item = {"device_id": "shelly-saw", "state": "idle", "power_w": 0.0, "session_id": None,
                "session_started_at": None, "session_working_s": 0.0, "session_standby_s": 0.0,
                "last_seen_at": "2026-13-01T00:00:00Z", "changed_at": "2026-01-01T24:00:00Z"}
        status = self.rpc(self.key, "worker.status", self.status_params(devices=[item]))
        self.assertEqual([e["path"] for e in status["error"]["data"]["errors"]],
                         ["/devices/0/last_seen_at", "/devices/0/changed_at"])

    def test_counters_beyond_32_bits_are_stored(self):
        big = 2**31
        hello = self.rpc(self.key, "worker.hello", {"worker_uid": "wk-transport", "software_version": "0.1.0",
                                                    "config_version": big, "started_at": "2026-01-01T00:00:00Z"})
        self.assertEqual(hello["result"]["config_version"], big + 1)
        health = dict(self.status_params()["health"], outbox_depth=2**40, dead_letters=2**40)
        status = self.rpc(self.key, "worker.status", self.status_params(config_version=2**45, health=health))
        self.assertEqual(status["result"], {"ok": True, "config_version": big + 1})
        self.env.invalidate_all()
        self.assertEqual((self.worker.applied_config_version, self.worker.outbox_depth), (2**45, 2**40))

    def test_deeply_nested_json_is_a_parse_error(self):
        response = self.post(self.key, b"[" * 100_000 + b"]" * 100_000, raw=True)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["error"]["data"], {"code": "PARSE_ERROR", "reason": "nested too deeply"})
        deep = self.events.online(self.device, 4, 0)
        deep["payload"]["extra"] = json.loads("[" * 500 + "]" * 500)
        results = self.ingest(self.key, "wk-transport", [deep])
        self.assertEqual((results[0]["status"], results[0]["code"]), ("rejected", "EVENT_INVALID"))

    def test_non_finite_numbers_are_parse_errors_and_never_echoed(self):
        call = '{"jsonrpc": "2.0", "id": %s, "method": "worker.status", "params": {}}'
        for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
            response = self.post(self.key, (call % literal).encode(), raw=True)
            # A strict parser: the answer itself must be JSON (RFC 8259 has no NaN).
            doc = json.loads(response.text, parse_constant=lambda c: self.fail("non-finite %s echoed" % c))
            self.assertEqual((doc["id"], doc["error"]["data"]["code"]), (None, "PARSE_ERROR"), literal)

    # ------------------------------------------------------------------ finding 15: refused logins logged
    def test_refused_logins_are_logged_once_a_minute_per_address_without_the_key(self):
        clock = [1000.0]
        wrong = self.key[:8] + "0" * (len(self.key) - 8)
        with patch.object(refused_logins, "clock", lambda: clock[0]), \
                self.assertLogs(REFUSAL_LOGGER, "WARNING") as logs, mute_logger("odoo.http"):
            for _ in range(3):
                self.assertEqual(self.post(wrong, self.status_params()).status_code, 401)
            clock[0] += 60.0
            self.assertEqual(self.post(self.outsider_key, self.status_params()).status_code, 403)
            clock[0] += 60.0
            response = self.post("", self.status_params(), headers={"Authorization": ""})
            self.assertEqual(response.status_code, 401)
        self.assertEqual(len(logs.output), 3, logs.output)
        self.assertIn("refused ingest request from 127.0.0.1: invalid API key", logs.output[0])
        self.assertIn("is not in the worker integration group (2 more refused from this address", logs.output[1])
        self.assertIn("no bearer API key", logs.output[2])
        for secret in (self.key, wrong, self.outsider_key, self.key[8:]):
            self.assertNotIn(secret, "\n".join(logs.output))


class TestRefusalLogLimiter(BaseCase):
    """tools/login_log.py with a fake clock."""

    def setUp(self):
        super().setUp()
        self.now = 0.0
        self.limiter = RefusalLogLimiter(interval_s=60.0, max_addresses=2, clock=lambda: self.now)

    def test_one_line_per_address_and_interval_with_the_count_in_the_next(self):
        self.assertEqual(self.limiter.admit("10.0.0.1"), (True, 0))
        self.assertEqual(self.limiter.admit("10.0.0.1"), (False, 0))
        self.assertEqual(self.limiter.admit("10.0.0.2"), (True, 0), "other addresses are not throttled")
        self.now = 59.9
        self.assertEqual(self.limiter.admit("10.0.0.1"), (False, 0))
        self.now = 60.0
        self.assertEqual(self.limiter.admit("10.0.0.1"), (True, 2))
        self.assertEqual(self.limiter.admit("10.0.0.1"), (False, 0))

    def test_memory_is_bounded_by_the_oldest_address_leaving(self):
        for address in ("a", "b", "c"):
            self.limiter.admit(address)
        self.assertEqual(self.limiter.admit("a"), (True, 0), "a was forgotten")
        self.assertEqual(self.limiter.admit("c"), (False, 0))
