"""What the shared schema cannot say about wire times (no ORM here).

The schema's ``Timestamp`` is a pattern, so ``2025-02-30T00:00:00Z`` and ``9999-12-31T23:59:59Z``
pass it, and ``Seconds`` allows ten years. Odoo checks after the schema, per item:

- every timestamp is a calendar date (else ``EVENT_INVALID`` / ``INVALID_PARAMS``);
- an event's timestamps lie in its ``TimeWindow`` and a session's durations fit between its
  timestamps (else ``EVENT_TIME_OUT_OF_RANGE``): one event dated 9999 would otherwise hold a
  machine's live state and a session's end for good, and a heartbeat claiming ten years of
  working time would bill 350,400 units of 15 minutes.

The timestamp fields are listed here by hand from ``shared/src/contracts``;
``tests/test_wire_checks.py`` derives them from the generated validators and compares.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from .timeutil import parse_wire_ts, to_wire_ts

EVENT_TIMESTAMPS = {
    "session_started": ("/occurred_at", "/payload/started_at", "/payload/last_seen_at"),
    "session_heartbeat": ("/occurred_at", "/payload/started_at", "/payload/interval_start", "/payload/interval_end",
                          "/payload/last_seen_at"),
    "session_stopped": ("/occurred_at", "/payload/started_at", "/payload/ended_at", "/payload/last_seen_at"),
    "device_online": ("/occurred_at", "/payload/last_seen_at"),
    "device_offline": ("/occurred_at", "/payload/last_seen_at"),
    "badge_presented": ("/occurred_at",),
}
HELLO_TIMESTAMPS = ("/started_at",)
STATUS_TIMESTAMPS = ("/devices/*/session_started_at", "/devices/*/last_seen_at", "/devices/*/changed_at")

# Cumulative durations of session events and the span that bounds each: (field, from, to).
_SESSION_SPAN = ("/payload/started_at", "/payload/interval_end")
_STOP_SPAN = ("/payload/started_at", "/payload/ended_at")
_INTERVAL = ("/payload/interval_start", "/payload/interval_end")
EVENT_DURATIONS = {
    "session_heartbeat": tuple((f, *_SESSION_SPAN)
                               for f in ("/payload/total_s", "/payload/working_s", "/payload/standby_s")) +
    tuple((f, *_INTERVAL) for f in ("/payload/interval_working_s", "/payload/interval_standby_s")),
    "session_stopped": tuple(
        (f, *_STOP_SPAN) for f in ("/payload/total_s", "/payload/working_s", "/payload/standby_s")
    ),
}

# Before any release of this software: a clock that was never set (1970) is not a machine's history.
TIME_FLOOR = datetime(2020, 1, 1)


class TimeWindow(NamedTuple):
    """Accepted times of one event: ``not_before`` (the machine's creation in Odoo minus the
    allowance, or TIME_FLOOR) to ``not_after`` (now plus the allowance); ``allowance_s`` is the
    clock skew granted to durations too."""

    not_before: datetime
    not_after: datetime
    allowance_s: float


def _lookup(doc, pointer):
    """``[(concrete path, value)]`` for a JSON pointer where ``*`` walks every array item; absent
    members and nulls are skipped (the schema already decided whether they may be absent)."""
    found = [("", doc)]
    for token in pointer.strip("/").split("/"):
        step = []
        for path, value in found:
            if token == "*" and isinstance(value, list):
                step.extend(("%s/%d" % (path, i), item) for i, item in enumerate(value))
            elif isinstance(value, dict) and value.get(token) is not None:
                step.append(("%s/%s" % (path, token), value[token]))
        found = step
    return found


def parse_times(doc, pointers):
    """``({path: naive UTC datetime}, errors)`` for the timestamps of a schema-valid ``doc``."""
    parsed, errors = {}, []
    for pointer in pointers:
        for path, value in _lookup(doc, pointer):
            try:
                parsed[path] = parse_wire_ts(value)
            except ValueError:
                errors.append({"path": path, "message": "is not a calendar date"})
    return parsed, errors


def window_errors(event, parsed, window):
    """Errors of an event whose timestamps ``parse_times`` parsed: times outside ``window`` and
    durations longer than the span they belong to (plus the allowance)."""
    errors = []
    for path, at in parsed.items():
        if at > window.not_after:
            errors.append({"path": path, "message": "is later than %s (now plus the allowed clock skew)"
                           % to_wire_ts(window.not_after)})
        elif at < window.not_before:
            errors.append({"path": path, "message": "is earlier than %s (the machine's creation in Odoo, or "
                           "2020, minus the allowed clock skew)" % to_wire_ts(window.not_before)})
    if errors:
        return errors
    for field, start, end in EVENT_DURATIONS.get(event.get("type"), ()):
        values = dict(_lookup(event, field))
        if field not in values or start not in parsed or end not in parsed:
            continue
        span = (parsed[end] - parsed[start]).total_seconds() + window.allowance_s
        if values[field] > span:
            errors.append({"path": field, "message": "is longer than the %.0f s from %s to %s (plus the allowed "
                           "clock skew)" % (max(span - window.allowance_s, 0), start[1:], end[1:])})
    return errors


def event_window(now, machine_created, allowance_s):
    """The TimeWindow of an event of a machine created at ``machine_created`` (None: unknown)."""
    allowance = timedelta(seconds=allowance_s)
    not_before = max(machine_created - allowance, TIME_FLOOR) if machine_created else TIME_FLOOR
    return TimeWindow(not_before, now + allowance, allowance_s)
