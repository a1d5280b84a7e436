"""Applying ingested events to sessions and to the machines' live state, a whole batch at a time."""

import logging

from odoo import models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools.session_fold import FIELDS, SessionFold
from ..tools.timeutil import parse_wire_ts

_logger = logging.getLogger(__name__)

SESSION_TYPES = {"session_started", "session_heartbeat", "session_stopped"}
_FIGURE_FIELDS = {"total_s", "working_s", "standby_s"}
_MAX_GAP_COUNT = 2_147_483_647


def _session_events(by_device):
    """``{device: events}`` -> ``{session_uid: (device, session events)}``, in the given order."""
    by_session = {}
    for device, events in by_device.items():
        for event in events:
            if event["type"] in SESSION_TYPES:
                by_session.setdefault(event["payload"]["session_id"], (device, []))[1].append(event)
    return by_session


def meter_seen_at(event):
    """The meter's last message an event reports (naive UTC), or None when it reports none."""
    payload, kind = event["payload"], event["type"]
    if "last_seen_at" in payload:
        return parse_wire_ts(payload["last_seen_at"])
    # A worker older than that field: the payload times that are meter messages. The message that
    # brought the meter back, the reading that started a session, the one that ended it (the drop,
    # or the last message before a timeout); a removal or shutdown ends at the worker's time.
    if kind == "device_online":
        return event["_occurred_at"]
    if kind == "session_started":
        return parse_wire_ts(payload["started_at"])
    if kind == "session_stopped" and payload["reason"] in ("power_off", "timeout"):
        return parse_wire_ts(payload["ended_at"])
    return None


class FoldResult:
    """What applying a group of events produced: ``outcome`` ``{event_uid: (state, session id,
    error)}``, the ``sessions`` touched (their seq gaps are counted once the events are stored) and
    the machines whose live state ``changed`` (notified by the caller). Results of the parts of a
    batch (machines, events retried on their own) are combined with ``merge``."""

    __slots__ = ("outcome", "sessions", "changed")

    def __init__(self, sessions, changed, outcome=None):
        self.outcome = outcome if outcome is not None else {}
        self.sessions = sessions
        self.changed = changed

    @classmethod
    def empty(cls, env):
        return cls(env["workshop.session"].browse(), env["workshop.device"].browse())

    @classmethod
    def failed(cls, env, events, error):
        """Every event of ``events`` marked ``error`` (kept for reprocessing), nothing else touched."""
        result = cls.empty(env)
        result.fail(events, error)
        return result

    def fail(self, events, error):
        self.outcome.update({event["event_uid"]: ("error", False, error) for event in events})

    def merge(self, other):
        self.outcome.update(other.outcome)
        self.sessions |= other.sessions
        self.changed |= other.changed
        return self


class WorkshopSession(models.Model):
    _inherit = "workshop.session"

    def _process_events(self, worker, devices, events):
        """Apply wire events (plus ``_occurred_at``, ``_is_late``) of ``worker``; returns a ``FoldResult``.

        The whole batch is applied inside one savepoint; if that fails, machine by machine, then
        event by event, so a failure marks only the events that fail ``error`` (kept for
        reprocessing). Order-independent (see ``tools/session_fold.py``); each event must be applied
        once (its state says whether it was).
        """
        result, by_device = FoldResult.empty(self.env), {}
        for event in sorted(events, key=lambda e: e["seq"]):
            device = devices.get(event["device_id"])
            if device:
                by_device.setdefault(device, []).append(event)
            else:
                result.fail([event], "Unknown machine (device id %r)" % event["device_id"])
        try:
            with self.env.cr.savepoint():
                # Their live state is written below: lock the rows first, quietly (see
                # _lock_rows_quietly); a refusal postpones the fold like any concurrency error.
                self.env["workshop.device"].union(*by_device)._lock_rows_quietly()
                return result.merge(self._process_device_groups(worker, by_device))
        except Exception as exc:
            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                raise  # Odoo retries the whole request
            _logger.warning("Batch of worker %s failed as a whole (%s); retrying machine by machine",
                            worker.worker_uid, type(exc).__name__)
        for device, device_events in by_device.items():
            result.merge(self._process_one_device(worker, device, device_events))
        return result

    def _process_one_device(self, worker, device, events):
        """One machine's events in a savepoint; if that fails, event by event, so only the events
        that fail on their own are marked ``error`` (with the exception's type)."""
        try:
            with self.env.cr.savepoint():
                return self._process_device_groups(worker, {device: events})
        except Exception as exc:
            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                raise
            if len(events) == 1:
                _logger.exception("Applying event %s of device %s failed", events[0]["event_uid"], device.device_id)
                return FoldResult.failed(self.env, events, "Processing failed: %s" % type(exc).__name__)
            _logger.warning("Applying %s event(s) of device %s failed (%s); retrying event by event",
                            len(events), device.device_id, type(exc).__name__)
        result = FoldResult.empty(self.env)
        for event in events:
            result.merge(self._process_one_device(worker, device, [event]))
        return result

    def _process_device_groups(self, worker, by_device):
        """Fold events into sessions (one search, one create), record each event's outcome, update
        the live states, and add the sessions that other events of the same seq range belong to."""
        result = self._fold_sessions(worker, _session_events(by_device))
        session_ids = {s.session_uid: s.id for s in result.sessions}
        for device, events in by_device.items():
            for event in events:
                sid = session_ids.get(event["payload"].get("session_id"), False)
                result.outcome.setdefault(event["event_uid"], ("processed", sid, None))
            if events and self._apply_live_from_events(device, events):
                result.changed |= device
        result.sessions |= self._sessions_around_other_events(by_device)
        return result

    def _fold_sessions(self, worker, by_session):
        """``{session_uid: (device, events)}`` folded into their sessions: the existing ones written,
        the new ones created in one call. Returns the result with the sessions touched."""
        result = FoldResult.empty(self.env)
        existing = {s.session_uid: s for s in self.search([("session_uid", "in", list(by_session))])}
        # Sessions split by badges are folded again from all their events afterwards
        # (workshop_session_members.py), not incrementally here.
        split = set(self.search([("worker_session_uid", "in", list(existing)), ("split_index", ">", 0)])
                    .mapped("worker_session_uid"))
        to_create = []
        for session_uid, (device, events) in by_session.items():
            session = existing.get(session_uid)
            if session and session.device_id != device:
                result.fail(events, "Session %s belongs to machine %s" % (session_uid, session.device_id.device_id))
                continue
            if session_uid in split:
                result.sessions |= session
                continue
            vals = self._fold_session(device, worker, session, session_uid, events)
            if session:
                result.sessions |= session
            else:
                to_create.append(vals)
        if to_create:
            result.sessions |= self.create(to_create)
        return result

    def _sessions_around_other_events(self, by_device):
        """Sessions whose seq range holds a device_online/offline event of this batch: their seq
        gaps and offline flag must be counted again."""
        sessions = self.browse()
        for device, events in by_device.items():
            seqs = [e["seq"] for e in events if e["type"] not in SESSION_TYPES]
            if seqs:
                sessions |= self.search([("device_id", "=", device.id),
                                         ("first_seq", "<=", max(seqs)), ("last_seq", ">=", min(seqs))])
        return sessions

    def _fold_session(self, device, worker, session, session_uid, events):
        """Fold ``events`` into ``session``; writes an existing one, returns create vals for a new one."""
        before = {name: session[name] for name in FIELDS} if session else {}
        fold = SessionFold(before)
        for event in events:
            fold.apply(event, event.get("_is_late", False))
        vals = {k: (v if v is not None else False) for k, v in fold.values().items()}
        if not session:
            vals.update(session_uid=session_uid, device_id=device.id, worker_id=worker.id)
            if device.default_member_id:  # a badge (attribution, after the fold) overrides it
                vals.update(member_id=device.default_member_id.id, member_source="machine")
            vals.update(self._billing_vals(device, fold.working_s, fold.standby_s, fold.state))
            return vals
        vals = {k: v for k, v in vals.items() if before[k] != v}
        if not vals:
            return vals
        session._reset_review()  # the reviewed figures are no longer the session's
        if session.billing_state == "billed":
            if _FIGURE_FIELDS.intersection(vals):
                vals["changed_after_billing"] = True
        else:
            billing = self._billing_vals(device, fold.working_s, fold.standby_s, fold.state)
            vals.update({k: v for k, v in billing.items() if session[k] != v})
        session.write(vals)
        return vals

    def _update_seq_gaps(self):
        """Count per-device seqs missing between each session's first and last event, and the
        device_offline reports among them (the offline segment flag), in one query.

        Counted over *all* stored events of the machine and worker (device_online/offline share the
        seq), so a late event filling the hole clears the flag again. The seq orders a machine's
        events, so an offline report whose seq lies between the session's first and last event was
        sent during the session, whatever order the events arrived in. A change clears the review.
        """
        sessions = self.filtered(lambda s: s.first_seq and s.last_seq and s.worker_id)
        if not sessions:
            return
        self.env.flush_all()
        # A correlated (LATERAL) subquery, not a join: given all three values, PostgreSQL reads only
        # the session's seq range from workshop_event_device_seq_idx. As a join it planned an index
        # scan on device_key alone and filtered every event the machine ever sent (5 ms per batch
        # after 10,000 events, growing with the log).
        self.env.cr.execute(SQL(
            """SELECT s.id, c.present, c.offline
                 FROM workshop_session s
                 JOIN workshop_device d ON d.id = s.device_id
                 JOIN workshop_worker w ON w.id = s.worker_id
                 CROSS JOIN LATERAL (
                     SELECT count(DISTINCT e.seq) AS present,
                            count(DISTINCT e.seq) FILTER (WHERE e.event_type = 'device_offline') AS offline
                       FROM workshop_event e
                      WHERE e.device_key = d.device_id AND e.worker_uid = w.worker_uid
                        AND e.seq BETWEEN s.first_seq AND s.last_seq) c
                WHERE s.id = ANY(%s)""", sessions.ids))
        counts = {sid: (present, offline) for sid, present, offline in self.env.cr.fetchall()}
        for session in sessions:
            present, offline = counts.get(session.id, (0, 0))
            gaps = max(session.last_seq - session.first_seq + 1 - present, 0)
            # seq is int8 on the wire (up to 2^53 - 1), the count an int4: a worker jumping its seq
            # must not overflow the column and fail the fold of every worker's events in the chunk.
            gaps = min(gaps, _MAX_GAP_COUNT)
            vals = {k: v for k, v in (("seq_gap_count", gaps), ("offline_report_count", offline)) if session[k] != v}
            if vals:
                session.write(vals)
                session._reset_review()

    def _apply_live_from_events(self, device, events):
        """Live state from the newest event (by occurred_at, then seq); older news never wins. Last
        seen is the newest meter message any of the events reports (``meter_seen_at``), never an
        event's own time: a heartbeat of a silent meter is the worker's timer, not a sign of life.
        Returns True when the machine's live state changed."""
        latest = max(events, key=lambda e: (e["_occurred_at"], e["seq"]))
        at, payload, kind = latest["_occurred_at"], latest["payload"], latest["type"]
        vals = {"live_changed_at": at}
        seen = [t for t in map(meter_seen_at, events) if t]
        if seen:
            vals["live_last_seen_at"] = max(seen)
        if kind in ("session_started", "session_heartbeat"):
            vals.update(
                live_state=payload["state"], live_power_w=payload["power_w"],
                live_session_id=payload["session_id"],
                live_session_started_at=parse_wire_ts(payload["started_at"]),
                live_session_working_s=payload.get("working_s", 0.0),
                live_session_standby_s=payload.get("standby_s", 0.0),
            )
        elif kind == "session_stopped":
            state = {"power_off": "idle", "timeout": "offline"}.get(payload["reason"], "unknown")
            vals.update(live_state=state, live_power_w=0.0, live_session_id=False,
                        live_session_started_at=False, live_session_working_s=0.0, live_session_standby_s=0.0)
        elif kind == "device_online":
            vals.update(live_state=payload["state"], live_power_w=payload["power_w"] or 0.0)
        elif kind == "device_offline":
            vals.update(live_state="offline", live_power_w=0.0)
        return device._set_live(vals)
