import copy
from datetime import datetime, timedelta

from odoo.tests import BaseCase

from ..schema import generated
from ..tools import wire_checks
from .common import EventFactory

TIMESTAMP_MESSAGE = "ISO-8601 UTC timestamp"


def _string_leaves(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, "%s/%s" % (path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, "%s/%d" % (path, index))
    elif isinstance(value, str):
        yield path


def _set(doc, path, value):
    *parents, last = path.strip("/").split("/")
    for token in parents:
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    doc[int(last) if isinstance(doc, list) else last] = value


def timestamp_paths(validate, doc):
    """The paths of ``doc`` whose schema is the contract's Timestamp: those the generated validator
    reports with the Timestamp's own message once their value is not one."""
    found = set()
    for path in _string_leaves(doc):
        broken = copy.deepcopy(doc)
        _set(broken, path, "not a time")
        if any(e["path"] == path and TIMESTAMP_MESSAGE in e["message"] for e in validate(broken)):
            found.add(path)
    return found


class TestWireChecks(BaseCase):
    """tools/wire_checks.py: its hand-written timestamp lists are the contract's, and its window."""

    def setUp(self):
        super().setUp()
        self.t0 = datetime(2026, 11, 25, 8, 0, 0)
        self.events = EventFactory("wk", self.t0)

    def samples(self):
        session = "0190a000-0000-7000-8000-000000000001"
        events = [self.events.started("d1", 1, session), self.events.heartbeat("d1", 2, session, 60, 30.0, 10.0),
                  self.events.stopped("d1", 3, session, 90, 40.0, 10.0), self.events.online("d1", 4, 0),
                  self.events.offline("d1", 5, 60)]
        for event in events:  # the meter's last message, on every payload (optional but offline's)
            event["payload"].setdefault("last_seen_at", event["occurred_at"])
        # A badge event's only time is its envelope's (the reader has no clock of its own).
        events.append(
            self.events.event("badge_presented", "rfid-1", 1, {"card_id": "04A1B2C3", "machine_device_id": "d1"}),
        )
        return events

    def test_event_timestamp_lists_match_the_contract(self):
        for event in self.samples():
            self.assertEqual(generated.validate_event(event), [])
            self.assertEqual(timestamp_paths(generated.validate_event, event),
                             set(wire_checks.EVENT_TIMESTAMPS[event["type"]]), event["type"])
        self.assertEqual(set(wire_checks.EVENT_TIMESTAMPS), {e["type"] for e in self.samples()})

    def test_hello_and_status_timestamp_lists_match_the_contract(self):
        hello = {"worker_uid": "wk", "software_version": "1", "config_version": 0, "hostname": "h",
                 "http_url": "http://h:1", "started_at": "2026-01-01T00:00:00Z"}
        self.assertEqual(timestamp_paths(generated.validate_worker_hello_params, hello),
                         set(wire_checks.HELLO_TIMESTAMPS))
        item = {"device_id": "d1", "state": "working", "power_w": 1.0,
                "session_id": "0190a000-0000-7000-8000-000000000001",
                "session_started_at": "2026-01-01T00:00:00Z", "session_working_s": 0.0, "session_standby_s": 0.0,
                "last_seen_at": "2026-01-01T00:00:00Z", "changed_at": "2026-01-01T00:00:00Z"}
        status = {"worker_uid": "wk", "config_version": 0, "full": True, "devices": [item],
                  "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                             "dead_letters": 0, "uptime_s": 1.0, "software_version": "1"}}
        self.assertEqual(generated.validate_worker_status_params(status), [])
        self.assertEqual(timestamp_paths(generated.validate_worker_status_params, status),
                         {p.replace("*", "0") for p in wire_checks.STATUS_TIMESTAMPS})

    def test_window_bounds(self):
        created = self.t0 - timedelta(days=30)
        window = wire_checks.event_window(self.t0, created, 3600)
        self.assertEqual(
            (window.not_before, window.not_after),
            (created - timedelta(hours=1), self.t0 + timedelta(hours=1)),
        )
        self.assertEqual(wire_checks.event_window(self.t0, None, 3600).not_before, wire_checks.TIME_FLOOR)
        self.assertEqual(
            wire_checks.event_window(self.t0, datetime(2020, 1, 1), 3600).not_before,
            wire_checks.TIME_FLOOR,
        )
        event = self.events.heartbeat("d1", 2, "0190a000-0000-7000-8000-000000000001", 60, 30.0, 10.0)
        parsed, errors = wire_checks.parse_times(event, wire_checks.EVENT_TIMESTAMPS["session_heartbeat"])
        self.assertEqual(errors, [])
        self.assertEqual(wire_checks.window_errors(event, parsed, window), [])
        event["payload"]["interval_working_s"] = 60.0 + 3600.0 + 0.001  # the interval is 60 s
        self.assertEqual([e["path"] for e in wire_checks.window_errors(event, parsed, window)],
                         ["/payload/interval_working_s"])
