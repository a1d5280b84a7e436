import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

from ..tools import rights, rpc_timings
from ..tools import rpc_errors as E
from ..tools.timeutil import parse_wire_ts
from ..tools.wire_checks import EVENT_TIMESTAMPS, event_window, parse_times, window_errors
from .bigint_field import BigInteger

_logger = logging.getLogger(__name__)

EVENT_TYPES = [
    ("session_started", "Session started"),
    ("session_heartbeat", "Session heartbeat"),
    ("session_stopped", "Session stopped"),
    ("device_online", "Device online"),
    ("device_offline", "Device offline"),
    ("badge_presented", "Badge presented"),
]
DEFAULT_LATE_AFTER_S = 300
# A badge presented while the machine is off attributes the session starting within this many
# seconds (workshop_iot.badge_window_s): time to switch the machine on after badging.
DEFAULT_BADGE_WINDOW_S = 120
# One day: far beyond the drift of a clock without NTP (minutes a week), far below a date that
# would hold a machine's live state or a session for good. Live state never trusts a time beyond
# now anyway (workshop_device_live.py), so the allowance only bounds what sessions record.
DEFAULT_CLOCK_SKEW_S = 86400

# Columns written by the bulk insert of _insert_events, in order (ORM-free fast path, see there).
_INSERT_COLUMNS = (
    "event_uid", "event_type", "device_id", "device_key", "worker_id", "company_id", "worker_uid", "seq",
    "occurred_at", "received_at", "delay_s", "is_late", "session_uid", "session_id", "payload", "state",
    "error", "create_uid", "create_date", "write_uid", "write_date",
)
# The per-event columns of that insert, passed as one typed array each (see _insert_events).
_ARRAY_COLUMNS = {
    "event_uid": "varchar[]", "event_type": "varchar[]", "device_id": "int4[]", "device_key": "varchar[]",
    "worker_uid": "varchar[]", "seq": "int8[]", "occurred_at": "timestamp[]", "delay_s": "float8[]",
    "is_late": "bool[]", "session_uid": "varchar[]", "session_id": "int4[]", "payload": "jsonb[]",
    "state": "varchar[]", "error": "text[]",
}


def _validators():
    from ..schema import generated

    return generated


class WorkshopEvent(models.Model):
    """Append-only log of the events workers sent; ``event_uid`` is unique, so re-sending is harmless."""

    _name = "workshop.event"
    _description = "Workshop IoT Event"
    _order = "occurred_at desc, id desc"
    _rec_name = "event_uid"
    _sql_constraints = [
        ("event_uid_unique", "UNIQUE(event_uid)", "This event was already received."),
    ]

    event_uid = fields.Char(string="Event UUID", required=True, readonly=True, help="Unique id set by the worker.")
    event_type = fields.Selection(EVENT_TYPES, string="Type", required=True, readonly=True, index=True)
    device_id = fields.Many2one("workshop.device", string="Machine", readonly=True, index=True, ondelete="set null")
    device_key = fields.Char(string="Device ID", required=True, readonly=True,
                             help="Device id as sent on the wire (kept when the machine is unknown or deleted).")
    worker_id = fields.Many2one("workshop.worker", string="Worker", readonly=True, ondelete="set null")
    worker_uid = fields.Char(string="Worker UID", required=True, readonly=True)
    # The worker's company (a machine is of its worker's company), written by the ingest's insert.
    company_id = fields.Many2one("res.company", string="Company", readonly=True, index=True)
    seq = BigInteger(required=True, readonly=True, help="Per-device monotonic sequence number set by the worker.")
    occurred_at = fields.Datetime(string="Occurred", required=True, readonly=True, index=True)
    received_at = fields.Datetime(string="Received", required=True, readonly=True)
    delay_s = fields.Float(string="Delay (s)", readonly=True, help="Received minus occurred, in seconds.")
    is_late = fields.Boolean(
        string="Late",
        readonly=True,
        help="Received after the late threshold (workshop_iot.late_event_after_s).",
    )
    session_uid = fields.Char(string="Session UUID", readonly=True, index=True)
    session_id = fields.Many2one("workshop.session", string="Session", readonly=True, index=True, ondelete="set null")
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Payload (JSON)", compute="_compute_payload_text")
    state = fields.Selection(
        [("pending", "Pending"), ("processed", "Processed"), ("error", "Error")],
        default="pending", required=True, readonly=True, index=True,
        help="Pending: stored, waiting for the fold cron (sessions, live state). Error: stored but not "
             "applied (e.g. unknown machine); 'Reprocess' applies it again.",
    )
    error = fields.Text(readonly=True)
    # Badge events (issue 16): the member the card belonged to when the event was folded.
    member_id = fields.Many2one("res.partner", string="Member", readonly=True, index="btree_not_null",
                                ondelete="set null", help="Badge events: the member of the card.")

    def _compute_payload_text(self):
        for event in self:
            event.payload_text = json.dumps(event.payload, indent=2, sort_keys=True) if event.payload else False

    def init(self):
        # Gap detection counts a device's seqs in a range: (device_key, worker_uid, seq) serves it.
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS workshop_event_device_seq_idx ON workshop_event (device_key, worker_uid, seq)"))
        # The fold cron claims pending events oldest first: a small index of just those.
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS workshop_event_pending_idx ON workshop_event (id) WHERE state = 'pending'"))

    @api.ondelete(at_uninstall=False)
    def _unlink_only_admin(self):
        if not self.env.is_system():
            raise UserError(_("The event log is append-only; only administrators can purge it."))

    def action_reprocess(self):
        """Fold events again (e.g. after creating the machine they referred to). Processed events
        are skipped, so it is idempotent. Managers only (AccessError otherwise): the fold runs with sudo."""
        rights.require(self.env, rights.MANAGER, _("Reprocessing events"))
        self.sudo().filtered(lambda e: e.state != "processed")._fold()
        return True

    def _as_wire(self):
        self.ensure_one()
        return {
            "event_uid": self.event_uid, "type": self.event_type, "device_id": self.device_key,
            "worker_uid": self.worker_uid, "seq": self.seq,
            "occurred_at": fields.Datetime.to_string(self.occurred_at), "payload": self.payload or {},
        }

    # ------------------------------------------------------------------ ingest
    @api.model
    def _float_param(self, name, default):
        param = self.env["ir.config_parameter"].sudo().get_param(name)
        try:
            return float(param) if param else default
        except ValueError:
            _logger.warning("%s=%r is not a number; using %s", name, param, default)
            return default

    @api.model
    def _late_after_s(self):
        return self._float_param("workshop_iot.late_event_after_s", DEFAULT_LATE_AFTER_S)

    @api.model
    def _clock_skew_s(self):
        """Allowed clock skew between a worker and Odoo (``workshop_iot.event_clock_skew_s``): how
        far an event may lie in the future, or before its machine was created in Odoo."""
        return max(self._float_param("workshop_iot.event_clock_skew_s", DEFAULT_CLOCK_SKEW_S), 0.0)

    @api.model
    def _ingest(self, worker, raw_events):
        """events.ingest body: validate and store each event; one result item per event.

        Never all-or-nothing: an invalid event is ``rejected`` alone, a known ``event_uid`` is a
        ``duplicate``, everything else is stored ``pending`` (``accepted``). Folding into sessions,
        machine live state and the dashboard happens after the commit, in the fold cron
        (``workshop_event_fold.py``), which this triggers: the answer does not wait for it. Accepted
        means stored (the worker may drop it from its outbox), not yet applied.
        """
        results = [None] * len(raw_events)
        now = fields.Datetime.now()
        candidates = self._screen_events(worker, raw_events, results, now)
        rpc_timings.lap(request, "screen")
        late_after = self._late_after_s()
        fresh = []
        for index, event in candidates:
            delay = (now - event["_occurred_at"]).total_seconds()
            fresh.append((index, dict(event, _delay_s=delay, _is_late=delay > late_after)))

        # The machine is resolved by the fold (device_id stays empty until then). Known uids are
        # the ones the insert skips (ON CONFLICT DO NOTHING): no SELECT of them first.
        inserted = self._insert_events(worker, {}, [e for _i, e in fresh], None, now)
        rpc_timings.lap(request, "insert")
        for index, event in fresh:
            uid = event["event_uid"]
            status = "accepted" if uid in inserted else "duplicate"
            results[index] = {"index": index, "event_uid": uid, "status": status}
        if inserted:
            self._trigger_fold()
        return {"results": results}

    @api.model
    def _screen_events(self, worker, raw_events, results, now):
        """Check each event on its own: schema, worker, machine (only the worker's own machines or
        unknown ids), times (``tools/wire_checks.py``). Fills ``results`` for rejected events and
        repeats within the batch; returns ``[(index, event plus _occurred_at)]`` of the others."""
        validate_event = _validators().validate_event
        valid = []
        for index, event in enumerate(raw_events):
            uid = event.get("event_uid") if isinstance(event.get("event_uid"), str) else None
            errors = validate_event(event)
            if errors:
                results[index] = _rejected(index, uid, E.EVENT_INVALID, errors)
            elif event["worker_uid"] != worker.worker_uid:
                results[index] = _rejected(index, uid, E.EVENT_WORKER_MISMATCH)
            else:
                valid.append((index, uid, event))
        # A badge event's device_id is its reader; the machine it names must be the worker's too.
        badges = [e for _i, _u, e in valid if e["type"] == "badge_presented"]
        created, forbidden = self.env["workshop.device"]._ingest_scope(
            worker, {e["device_id"] for _i, _u, e in valid if e["type"] != "badge_presented"}
            | {e["payload"]["machine_device_id"] for e in badges})
        reader_created, reader_forbidden = self.env["workshop.badge.reader"]._ingest_scope(
            worker, {e["device_id"] for e in badges})
        skew = self._clock_skew_s()
        candidates, seen = [], set()
        for index, uid, event in valid:
            parsed, errors = parse_times(event, EVENT_TIMESTAMPS[event["type"]])
            refused = _forbidden_id(event, forbidden, reader_forbidden)
            if event["type"] == "badge_presented":
                first_created = reader_created.get(event["device_id"])
            else:
                first_created = created.get(event["device_id"])
            if refused:
                results[index] = _rejected(index, uid, E.DEVICE_FORBIDDEN, device_id=refused)
            elif errors:
                results[index] = _rejected(index, uid, E.EVENT_INVALID, errors)
            elif errors := window_errors(event, parsed, event_window(now, first_created, skew)):
                results[index] = _rejected(index, uid, E.EVENT_TIME_OUT_OF_RANGE, errors)
            elif uid in seen:
                results[index] = {"index": index, "event_uid": uid, "status": "duplicate"}
            else:
                seen.add(uid)
                candidates.append((index, dict(event, _occurred_at=parsed["/occurred_at"])))
        return candidates

    def _insert_events(self, worker, devices, events, outcome=None, now=None):
        """Insert events (``pending`` unless ``outcome`` says otherwise); returns the set of event_uids inserted.

        One ``INSERT ... SELECT FROM unnest(...) ON CONFLICT (event_uid) DO NOTHING RETURNING`` for
        the whole batch. A concurrent transaction inserting the same uid makes PostgreSQL wait for
        it; if it commits, Odoo's REPEATABLE READ isolation turns our conflict into a serialization
        failure, which the controller lets through so that Odoo retries the whole request
        (``service.model.retrying``): the retry sees the stored row and reports ``duplicate``. Never
        a unique-violation error. The ORM has no upsert and a per-row create() would double the
        cost of the hot path (the fold's outcome update is the other raw-SQL write, see
        ``workshop_event_fold.py``).
        """
        if not events:
            return set()
        outcome = outcome or {}
        now = now or fields.Datetime.now()
        # One array per column, unnested by PostgreSQL: 14 parameters instead of 20 per row, so
        # neither psycopg2 nor the planner handles a VALUES list of thousands of literals.
        cols = {name: [] for name in _ARRAY_COLUMNS}
        for event in events:
            device = devices.get(event["device_id"])
            payload = event["payload"]
            state, session_id, error = outcome.get(event["event_uid"], ("pending", False, None))
            occurred = event.get("_occurred_at") or parse_wire_ts(event["occurred_at"])
            cols["event_uid"].append(event["event_uid"])
            cols["event_type"].append(event["type"])
            cols["device_id"].append(device.id if device else None)
            cols["device_key"].append(event["device_id"])
            cols["worker_uid"].append(event["worker_uid"])
            cols["seq"].append(event["seq"])
            cols["occurred_at"].append(occurred)
            cols["delay_s"].append(event.get("_delay_s", (now - occurred).total_seconds()))
            cols["is_late"].append(bool(event.get("_is_late")))
            cols["session_uid"].append(payload.get("session_id"))
            cols["session_id"].append(session_id or None)
            cols["payload"].append(json.dumps(payload))
            cols["state"].append(state)
            cols["error"].append(error)
        self.env.flush_all()
        query = SQL(
            """INSERT INTO workshop_event (%s)
               SELECT u.event_uid, u.event_type, u.device_id, u.device_key, %s, %s, u.worker_uid, u.seq,
                      u.occurred_at, %s, u.delay_s, u.is_late, u.session_uid, u.session_id, u.payload,
                      u.state, u.error, %s, %s, %s, %s
                 FROM unnest(%s) AS u(%s)
                   ON CONFLICT (event_uid) DO NOTHING RETURNING event_uid""",
            SQL(", ").join(SQL.identifier(c) for c in _INSERT_COLUMNS),
            worker.id or None, worker.company_id.id or None, now, self.env.uid, now, self.env.uid, now,
            SQL(", ").join(SQL("%s::" + _ARRAY_COLUMNS[name], cols[name]) for name in _ARRAY_COLUMNS),
            SQL(", ").join(SQL.identifier(name) for name in _ARRAY_COLUMNS),
        )
        self.env.cr.execute(query)
        # The only cached value the raw insert can make stale: sessions' one2many to their events.
        self.env["workshop.session"].invalidate_model(["event_ids"])
        return {row[0] for row in self.env.cr.fetchall()}


def _forbidden_id(event, forbidden_devices, forbidden_readers):
    """The id of ``event`` that belongs to another worker (machine or badge reader), or None."""
    if event["type"] != "badge_presented":
        return event["device_id"] if event["device_id"] in forbidden_devices else None
    if event["device_id"] in forbidden_readers:
        return event["device_id"]
    machine = event["payload"]["machine_device_id"]
    return machine if machine in forbidden_devices else None


def _rejected(index, uid, error, errors=None, **kwargs):
    item = {"index": index, "event_uid": uid if uid and len(uid) <= 64 else None, "status": "rejected",
            "code": error.code, "message": error.format(**kwargs)}
    if errors:
        item["errors"] = errors[:100]
    return item
