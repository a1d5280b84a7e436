"""Fold session events into a session's figures, in any arrival order (no ORM here).

Heartbeats and stops carry *cumulative* totals, so the figures of the event with the highest
``seq`` win and applying an event twice changes nothing. A stop is final: heartbeats after it (by
arrival) only count as received events. Odoo's own timeout close (stale-session cron) is replaced
by the worker's stop when that arrives later.
"""

from .timeutil import parse_wire_ts

FIELDS = (
    "started_at", "ended_at", "last_event_at", "state", "stop_reason", "total_s", "working_s",
    "standby_s", "energy_wh", "first_seq", "last_seq", "applied_seq", "event_count",
    "has_start_event", "has_stop_event", "late_event_count", "closed_by_odoo",
)


class SessionFold:
    """Mutable figures of one session; ``apply(event)`` folds one wire event (dict) into them."""

    def __init__(self, values=None):
        values = values or {}
        self.started_at = values.get("started_at") or None
        self.ended_at = values.get("ended_at") or None
        self.last_event_at = values.get("last_event_at") or None
        self.state = values.get("state") or "running"
        self.stop_reason = values.get("stop_reason") or None
        self.total_s = values.get("total_s") or 0.0
        self.working_s = values.get("working_s") or 0.0
        self.standby_s = values.get("standby_s") or 0.0
        self.energy_wh = values.get("energy_wh") or 0.0
        self.first_seq = values.get("first_seq") or None
        self.last_seq = values.get("last_seq") or None
        self.applied_seq = values.get("applied_seq") or 0
        self.event_count = values.get("event_count") or 0
        self.has_start_event = bool(values.get("has_start_event"))
        self.has_stop_event = bool(values.get("has_stop_event"))
        self.late_event_count = values.get("late_event_count") or 0
        self.closed_by_odoo = bool(values.get("closed_by_odoo"))

    def values(self):
        return {name: getattr(self, name) for name in FIELDS}

    def apply(self, event, is_late=False):
        """Fold one event of this session (``type``, ``seq``, ``payload``)."""
        seq, kind, payload = event["seq"], event["type"], event["payload"]
        self.first_seq = seq if self.first_seq is None else min(self.first_seq, seq)
        self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
        self.event_count += 1
        self.late_event_count += 1 if is_late else 0
        started = parse_wire_ts(payload["started_at"])
        if kind == "session_started" or not self.started_at:
            self.started_at = started
        if kind == "session_started":
            self.has_start_event = True
            self._seen(started)
        elif kind == "session_heartbeat":
            if not self.has_stop_event and seq > self.applied_seq:
                self._totals(payload, seq)
            self._seen(parse_wire_ts(payload["interval_end"]))
            if self.state != "running":  # closed by Odoo's cron; the worker still reports it
                self.ended_at = max(self.ended_at or self.last_event_at, self.last_event_at)
        elif kind == "session_stopped" and (not self.has_stop_event or seq > self.applied_seq):
            self._totals(payload, seq)
            self.has_stop_event = True
            self.closed_by_odoo = False
            self.ended_at = parse_wire_ts(payload["ended_at"])
            self.stop_reason = payload["reason"]
            self.state = "timeout" if payload["reason"] == "timeout" else "done"
            self._seen(self.ended_at)
        self._normalize()

    def _totals(self, payload, seq):
        self.working_s = payload["working_s"]
        self.standby_s = payload["standby_s"]
        self.total_s = payload["total_s"]
        if payload.get("energy_wh") is not None:
            self.energy_wh = payload["energy_wh"]
        self.applied_seq = seq

    def _seen(self, at):
        if at and (not self.last_event_at or at > self.last_event_at):
            self.last_event_at = at

    def _normalize(self):
        # Invariants the database checks: working + standby <= total, end >= start.
        self.total_s = max(self.total_s, self.working_s + self.standby_s)
        if self.ended_at and self.started_at and self.ended_at < self.started_at:
            self.ended_at = self.started_at
