"""The fold: stored events applied to sessions, machine live state and the dashboard, after ingest.

``events.ingest`` only validates and stores events (``pending``) and triggers the fold cron; the
cron folds pending events chunk by chunk, each chunk in its own transaction (Odoo's cron progress
API commits between the runs), so the worker's call never waits for sessions or tiles.
"""

import logging
import os
import uuid
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools import pg_notify
from .workshop_session_processing import SESSION_TYPES

_logger = logging.getLogger(__name__)

FOLD_CRON = "workshop_iot.ir_cron_fold_events"
_TRIGGER_KEY = "workshop_iot.fold_trigger"
DEFAULT_FOLD_CHUNK = 1000


def _fold_chunk():
    """Events folded per transaction (``WORKSHOP_IOT_FOLD_CHUNK``): larger chunks fold faster and
    hold the session and machine rows longer (``worker.status`` writes the same machine rows)."""
    raw = os.environ.get("WORKSHOP_IOT_FOLD_CHUNK")
    if raw is None:
        return DEFAULT_FOLD_CHUNK
    try:
        return max(int(raw), 1)
    except ValueError:
        _logger.warning("WORKSHOP_IOT_FOLD_CHUNK=%r is not an integer; using %s", raw, DEFAULT_FOLD_CHUNK)
        return DEFAULT_FOLD_CHUNK


FOLD_CHUNK = _fold_chunk()


class WorkshopEvent(models.Model):
    _inherit = "workshop.event"

    # ------------------------------------------------------------------ trigger
    def _trigger_fold(self):
        """Have the fold cron run as soon as this transaction commits (once per transaction).

        Not ``cron._trigger()``: its ``call_at`` is ``Datetime.now()``, to the second, and when a
        cron run completes Odoo deletes the job's triggers older than the start of that run. A fold
        run that started earlier in the same second, before our events were committed, would then
        delete our trigger and leave the events for the next trigger or the 1-minute schedule. A
        ``call_at`` to the microsecond, written as late as possible (``precommit``: at COMMIT, or
        when a savepoint flushes first, as the RPC controller's per-call savepoint does right after
        the call), only leaves the instants between that INSERT and the COMMIT, which the schedule
        still covers.
        """
        cr = self.env.cr
        if not cr.precommit.data.get(_TRIGGER_KEY):
            cr.precommit.data[_TRIGGER_KEY] = True
            cr.precommit.add(self._create_fold_trigger)

    def _create_fold_trigger(self):
        cron = self.env.ref(FOLD_CRON, raise_if_not_found=False)
        if not cron:
            _logger.warning("Cron %s is missing: pending events are folded by nobody", FOLD_CRON)
            return
        cron = cron.sudo()
        # What cron._trigger_list() writes, in one statement: the ORM create() of the row (defaults,
        # access checks, the cron's record read for `active`) was a few ms of every ingest request.
        # An archived cron gets no trigger, as with _trigger_list (Odoo ignores them anyway).
        self.env.cr.execute(SQL(
            """INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
               SELECT id, %(at)s, %(uid)s, %(now)s, %(uid)s, %(now)s FROM ir_cron WHERE id = %(cron)s AND active
            RETURNING id""",
            at=datetime.now(timezone.utc).replace(tzinfo=None), uid=self.env.uid, now=fields.Datetime.now(),
            cron=cron.id))
        if not self.env.cr.fetchone():
            return
        self.env["ir.cron.trigger"].invalidate_model()
        # Wake the cron threads after COMMIT, as _trigger_list does for a call_at in the past, over a
        # kept connection: Odoo's _notifydb opens a new one to 'postgres' each time, most of a small
        # request's fixed cost (tools/pg_notify.py).
        self.env.cr.postcommit.add(pg_notify.notify_cron_threads(cron))

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_fold_events(self):
        """Cron: fold one chunk of pending events, oldest first; returns how many were folded.

        Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so a second fold running at the same time
        (a manual run, another server) takes other events, never the same ones. The chunk's
        sessions, machines and event states are written in this transaction: a crash leaves the
        events pending and the next run folds them again, from scratch. An event that cannot be
        folded is marked ``error`` with the reason (``_process_events`` isolates machines, then
        events); the others go on. With the cron progress API, Odoo commits after this call and
        calls again while events remain (10 chunks per run, then it reschedules the job).
        """
        cron_api = self.env["ir.cron"]
        self.env.flush_all()
        try:
            with self.env.cr.savepoint():
                items = self._fold_claim(FOLD_CHUNK)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            return self._fold_retry_later(exc)
        if not items:
            cron_api._notify_progress(done=0, remaining=0)
            return 0
        try:
            with self.env.cr.savepoint():
                self._fold_items(items)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            return self._fold_retry_later(exc)
        except Exception:
            # Something outside the per-machine/per-event isolation (seq gaps, tiles) failed: the
            # chunk is parked as errors (kept for 'Reprocess') so the queue does not stall on it.
            ref = uuid.uuid4().hex[:12]
            _logger.exception("Folding %s event(s) failed as a whole (reference %s); marked error", len(items), ref)
            error = ("error", False, "Fold failed (reference %s in the server log)" % ref)
            self._fold_store_outcome(items, {item["event_uid"]: error for item in items}, {})
        cron_api._notify_progress(done=len(items), remaining=self._fold_pending_count())
        return len(items)

    def _fold_retry_later(self, exc):
        """A concurrent transaction (``worker.status`` on a machine row, another fold) won: this
        transaction's snapshot is stale, so fold nothing now and run again after the commit."""
        _logger.info("Fold postponed: %s", type(exc).__name__)
        self._trigger_fold()
        self.env["ir.cron"]._notify_progress(done=0, remaining=0)
        return 0

    @api.model
    def _fold_pending_count(self):
        self.env.cr.execute(SQL("SELECT count(*) FROM workshop_event WHERE state = 'pending'"))
        return self.env.cr.fetchone()[0]

    @api.model
    def _fold_claim(self, limit):
        """Lock and read up to ``limit`` pending events (arrival order), skipping rows another
        transaction holds; as wire dicts plus ``_event_id``, ``_worker_id``, ``_occurred_at``, ``_is_late``."""
        self.env.cr.execute(SQL(
            """SELECT id, event_uid, event_type, device_key, worker_id, worker_uid, seq, occurred_at, is_late, payload
                 FROM workshop_event
                WHERE state = 'pending'
             ORDER BY id
                LIMIT %s
                  FOR UPDATE SKIP LOCKED""", limit))
        return [{
            "_event_id": row[0], "event_uid": row[1], "type": row[2], "device_id": row[3], "_worker_id": row[4],
            "worker_uid": row[5], "seq": row[6], "occurred_at": fields.Datetime.to_string(row[7]),
            "_occurred_at": row[7], "_is_late": row[8], "payload": row[9] or {},
        } for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------------ fold
    def _fold(self):
        """Fold these events now (``action_reprocess``), whatever their state."""
        self.env.flush_all()
        items = [dict(event._as_wire(), _event_id=event.id, _worker_id=event.worker_id.id,
                      _occurred_at=event.occurred_at, _is_late=event.is_late) for event in self]
        if items:
            self._fold_items(items)

    @api.model
    def _fold_items(self, items):
        """Apply events (dicts of ``_fold_claim``) to sessions and live state, store each event's
        outcome, count the sessions' seq gaps and notify the dashboard of changed machines."""
        # The whole fold writes without chatter: tracking is for what people do (a manual member, a
        # review, a claim), and a "created" message per session would double the cost of ingest.
        self = self.with_context(tracking_disable=True, mail_create_nolog=True)
        Session = self.env["workshop.session"].sudo()
        Device = self.env["workshop.device"].sudo()
        Worker = self.env["workshop.worker"].sudo().with_context(active_test=False)
        outcome, device_ids, members = {}, {}, {}
        sessions, changed = Session.browse(), Device.browse()
        by_worker = {}
        for item in items:
            by_worker.setdefault(item["_worker_id"], []).append(item)
        for worker_id, group in by_worker.items():
            worker = Worker.browse(worker_id).exists() if worker_id else Worker.browse()
            if not worker:
                outcome.update({item["event_uid"]: ("error", False, "Worker %s no longer exists" % item["worker_uid"])
                                for item in group})
                continue
            badge_items = [item for item in group if item["type"] == "badge_presented"]
            group = [item for item in group if item["type"] != "badge_presented"]
            devices = Device._for_ingest(worker, {item["device_id"] for item in group})
            part = Session._process_events(worker, devices, group)
            outcome.update(part.outcome)
            sessions |= part.sessions
            changed |= part.changed
            for item in group:
                device = devices.get(item["device_id"])
                device_ids[item["_event_id"]] = device.id if device else None
            uids = {item["payload"]["session_id"] for item in group
                    if item["type"] in SESSION_TYPES and outcome[item["event_uid"]][0] == "processed"}
            members.update(self._fold_badges(worker, badge_items, uids, group, outcome, device_ids))
        self._fold_store_outcome(items, outcome, device_ids)
        self._fold_store_members(members)
        sessions._update_seq_gaps()
        changed._notify_live_state()
        if sessions:  # their review flags may have changed: the manager's digest alert follows
            self.env["workshop.review.digest"]._refresh_unless_concurrent()

    @api.model
    def _fold_badges(self, worker, badge_items, session_uids, session_items, outcome, device_ids):
        """Resolve the chunk's badge events and attribute members (workshop_session_members.py),
        filling ``outcome`` and ``device_ids`` (a badge event's machine is the one it names).
        Returns ``{event id: member id}`` of the badge events applied. Attribution runs in a
        savepoint: if it fails, the badge events are marked ``error`` and the sessions stay folded."""
        Session = self.env["workshop.session"].sudo()
        badge_outcome, badges = Session._resolve_badges(worker, badge_items) if badge_items else ({}, [])
        outcome.update(badge_outcome)
        try:
            with self.env.cr.savepoint():
                links = Session._attribute_members(session_uids, badges, session_items)
        except Exception as exc:
            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                raise
            _logger.exception("Attributing members of worker %s failed", worker.worker_uid)
            error = ("error", False, "Member attribution failed: %s" % type(exc).__name__)
            outcome.update({badge.event_uid: error for badge in badges})
            return {}
        for badge in badges:  # applied, whether or not a session is there for it yet
            outcome[badge.event_uid] = ("processed", False, None)
        for uid, session_id in links.items():
            if outcome.get(uid, ("processed",))[0] == "processed":
                outcome[uid] = ("processed", session_id, None)
        by_uid = {item["event_uid"]: item["_event_id"] for item in badge_items}
        for badge in badges:
            device_ids[by_uid[badge.event_uid]] = badge.device.id
        return {by_uid[b.event_uid]: b.member.id for b in badges}

    @api.model
    def _fold_store_members(self, members):
        """The member of each applied badge event (attribution reads them back from the log)."""
        if not members:
            return
        self.env.cr.execute(SQL(
            """UPDATE workshop_event e SET member_id = u.member_id
                 FROM unnest(%s::int4[], %s::int4[]) AS u(id, member_id) WHERE e.id = u.id""",
            list(members), list(members.values())))
        self.invalidate_model(["member_id"])

    @api.model
    def _fold_store_outcome(self, items, outcome, device_ids):
        """Write state, session, error and machine of each event in one UPDATE (a write() per event
        would be one UPDATE per distinct session and state: most of the fold's time)."""
        cols = {"id": [], "state": [], "session_id": [], "error": [], "device_id": []}
        for item in items:
            state, session_id, error = outcome.get(item["event_uid"], ("error", False, "Not folded"))
            cols["id"].append(item["_event_id"])
            cols["state"].append(state)
            cols["session_id"].append(session_id or None)
            cols["error"].append(error or None)
            cols["device_id"].append(device_ids.get(item["_event_id"]))
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """UPDATE workshop_event e
                  SET state = u.state, session_id = u.session_id, error = u.error,
                      device_id = COALESCE(u.device_id, e.device_id), write_uid = %s, write_date = %s
                 FROM unnest(%s::int4[], %s::varchar[], %s::int4[], %s::text[], %s::int4[])
                      AS u(id, state, session_id, error, device_id)
                WHERE e.id = u.id""",
            self.env.uid, fields.Datetime.now(), cols["id"], cols["state"], cols["session_id"], cols["error"],
            cols["device_id"]))
        self.invalidate_model(["state", "session_id", "error", "device_id", "write_uid", "write_date"])
        self.env["workshop.session"].invalidate_model(["event_ids"])
