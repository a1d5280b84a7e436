"""Live state of machines: updates from worker.status and events, the dashboard read API and the
bus notification the dashboard listens to."""

import logging
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools.timeutil import parse_wire_ts, to_wire_ts

_logger = logging.getLogger(__name__)

BUS_TYPE = "workshop_iot/device_state"
USER_GROUP = "workshop_iot.workshop_iot_group_user"
# Subchannel of a company's bus channel, ``(res.company, DASHBOARD_SUBCHANNEL)``: the dashboards of
# that company's workshop users listen to it (``ir_websocket.py``).
DASHBOARD_SUBCHANNEL = "workshop_iot/dashboard"
_LIVE_TIMES = {"live_changed_at", "live_last_seen_at", "live_session_started_at"}


def _capped(value_s, span_s):
    return value_s if span_s is None else min(value_s, span_s)


class WorkshopDevice(models.Model):
    _inherit = "workshop.device"

    live_expected_interval_s = fields.Float(
        string="Usual report interval", readonly=True,
        help="The meter's usual time between messages (seconds), as its worker observed it. The dashboard "
        "shows \"no data since …\" on a meter silent well past it, before the message timeout takes it "
        "offline. Empty until the worker reports one: the dashboard then uses the message timeout.")

    # ------------------------------------------------------------------ dashboard read API
    @api.model
    def dashboard_machines(self):
        """Every active machine as the dashboard's tile dict (see ``_dashboard_payload``).

        Example item::

            {"id": 7, "name": "Laser", "device_id": "shelly-1", "area": "Hall A", "state": "working",
             "power_w": 812.0, "session_id": "0190…", "session_started_at": "2026-11-25T08:00:00.000Z",
             "session_working_s": 1200.0, "session_standby_s": 60.0, "today_working_s": 5400.0,
             "today_standby_s": 300.0, "last_seen_at": "…Z", "changed_at": "…Z", "expected_interval_s": 60.0,
             "member_name": "Ada Lovelace", "alert": "Offline during a session"}
        """
        self.check_access("read")
        return self.search([])._dashboard_payload()

    def _dashboard_payload(self):
        """Tile dicts for these machines, in recordset order. ``today_*`` counts from the workshop's
        local midnight (``_workshop_midnight_utc``). ``power_w`` is None ("—" on the tile) for a meter
        never heard from, or unknown or offline: the stored 0.0 is no reading. ``expected_interval_s``
        is the worker's observed interval, else the machine's message timeout. ``member_name`` is
        who is on the machine: the member of its running session (None when none). ``alert`` is the
        summary of its open alerts (``workshop_device_alerts.py``), None when none."""
        today = self._today_totals()
        members = self._live_member_names()
        alerts = self._alert_texts()
        out = []
        for device in self:
            working, standby = today.get(device.id, (0.0, 0.0))
            has_power = device.live_last_seen_at and device.live_state not in ("unknown", "offline")
            out.append({
                "id": device.id,
                "name": device.name,
                "device_id": device.device_id,
                "area": device.area or None,
                "state": device.live_state,
                "power_w": device.live_power_w if has_power else None,
                "session_id": device.live_session_id or None,
                "session_started_at": to_wire_ts(device.live_session_started_at),
                "session_working_s": device.live_session_working_s,
                "session_standby_s": device.live_session_standby_s,
                "today_working_s": round(working, 3),
                "today_standby_s": round(standby, 3),
                "last_seen_at": to_wire_ts(device.live_last_seen_at),
                "changed_at": to_wire_ts(device.live_changed_at),
                "expected_interval_s": device.live_expected_interval_s or float(device.message_timeout_s),
                "member_name": members.get(device.id),
                "alert": alerts.get(device.id),
            })
        return out

    @api.model
    def _workshop_tz(self):
        """Timezone of the workshop day: system parameter ``workshop_iot.timezone``, else the company
        partner's timezone, else UTC. Not the viewer's timezone: the wall screen and the bus payload
        (computed in the ingest request, as the integration user) must agree on when "today" starts."""
        name = self.env["ir.config_parameter"].sudo().get_param("workshop_iot.timezone")
        if not name:
            # Only the tz column: a full prefetch of the user, company and partner rows costs more
            # than the whole dashboard query (this runs in every ingest request that changes a tile).
            narrow = {"prefetch_fields": False}
            company = (self.env.company if self.env.context.get("allowed_company_ids")
                       else self.env.user.with_context(**narrow).company_id)  # what env.company reads
            name = company.with_context(**narrow).partner_id.tz
        try:
            return pytz.timezone(name) if name else pytz.utc
        except pytz.UnknownTimeZoneError:
            _logger.warning("workshop_iot.timezone=%r is not a timezone; using UTC", name)
            return pytz.utc

    @api.model
    def _workshop_midnight_utc(self, now=None):
        """Naive UTC datetime of the last local midnight in the workshop timezone."""
        tz = self._workshop_tz()
        now = now or fields.Datetime.now()
        local = pytz.utc.localize(now).astimezone(tz)
        midnight = tz.localize(datetime.combine(local.date(), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _today_totals(self):
        """{device id: (working_s, standby_s)} of sessions (running or closed) since local midnight.

        A session that began before midnight counts pro rata of its time after midnight (sessions
        carry totals, not a timeline, so the split assumes an even mix of working and standby).
        The running session a machine reports live counts with the fresher of its stored and live
        figures. One query: the sessions begun today are summed by PostgreSQL (a day's worth of
        sessions per machine never comes back to Python), those begun before midnight come back
        one row each for the pro rata split.
        """
        if not self:
            return {}
        now = fields.Datetime.now()
        midnight = self._workshop_midnight_utc(now)
        # The query reads the live figures and the sessions' times from the tables.
        self.flush_model(["live_session_id", "live_session_working_s", "live_session_standby_s"])
        self.env["workshop.session"].flush_model(
            ["device_id", "session_uid", "started_at", "ended_at", "last_event_at", "working_s", "standby_s"])
        self.env.cr.execute(SQL(
            """WITH s AS (
                   SELECT s.device_id, s.started_at, s.ended_at, s.last_event_at,
                          CASE WHEN s.ended_at IS NULL AND s.session_uid = d.live_session_id
                               THEN GREATEST(COALESCE(s.working_s, 0), COALESCE(d.live_session_working_s, 0))
                               ELSE COALESCE(s.working_s, 0) END AS working,
                          CASE WHEN s.ended_at IS NULL AND s.session_uid = d.live_session_id
                               THEN GREATEST(COALESCE(s.standby_s, 0), COALESCE(d.live_session_standby_s, 0))
                               ELSE COALESCE(s.standby_s, 0) END AS standby
                     FROM workshop_session s
                     JOIN workshop_device d ON d.id = s.device_id
                    WHERE s.device_id = ANY(%(ids)s) AND s.started_at < %(now)s
                      AND (s.ended_at IS NULL OR s.ended_at > %(midnight)s))
               SELECT device_id, NULL, NULL, NULL, SUM(working), SUM(standby)
                 FROM s WHERE started_at >= %(midnight)s GROUP BY device_id
               UNION ALL
               SELECT device_id, started_at, ended_at, last_event_at, working, standby
                 FROM s WHERE started_at < %(midnight)s""",
            ids=self.ids, now=now, midnight=midnight))
        totals = {}
        for device_id, start, ended, last_event, working, standby in self.env.cr.fetchall():
            if start is not None:  # began before midnight: only its share after midnight counts
                end = ended or max(last_event or start, start + timedelta(seconds=working + standby))
                span = (end - start).total_seconds()
                share = max((end - midnight).total_seconds(), 0.0) / span if span > 0 else 0.0
                working, standby = working * share, standby * share
            w, sb = totals.get(device_id, (0.0, 0.0))
            totals[device_id] = (w + working, sb + standby)
        return totals

    # ------------------------------------------------------------------ live updates
    def _apply_live_states(self, worker, states):
        """worker.status: apply DeviceLiveState items of ``worker``'s machines; ids of other workers'
        machines and unknown ids are ignored. A report older than the state already stored (a late
        event was newer) does not win. A running session's times are capped at the time since it
        started (they feed the dashboard's "today" totals). Last seen is the meter's last message the
        worker reports; ``_live_changes`` keeps it from going back."""
        by_id = {d.device_id: d for d in self.search([("worker_id", "=", worker.id)])}
        changed = self.browse()
        now = fields.Datetime.now()
        for item in states:
            device = by_id.get(item["device_id"])
            if not device:
                continue
            started = parse_wire_ts(item["session_started_at"])
            span_s = max((now - started).total_seconds(), 0.0) if started else None
            vals = {
                "live_state": item["state"],
                "live_power_w": item["power_w"] or 0.0,
                "live_session_id": item["session_id"] or False,
                "live_session_started_at": started or False,
                "live_session_working_s": _capped(item["session_working_s"], span_s),
                "live_session_standby_s": _capped(item["session_standby_s"], span_s),
                "live_last_seen_at": parse_wire_ts(item["last_seen_at"]) or False,
                "live_changed_at": parse_wire_ts(item["changed_at"]),
            }
            if item.get("expected_interval_s"):  # optional: older workers do not send it
                vals["live_expected_interval_s"] = item["expected_interval_s"]
            if device._set_live_unless_concurrent(vals):
                changed |= device
        changed._notify_live_state()
        return changed

    def _set_live_unless_concurrent(self, vals):
        """``_set_live`` for ``worker.status``, in a savepoint: when the machine's row was written by
        a transaction that committed after this request began (the fold cron applying this worker's
        events, a few milliseconds earlier), PostgreSQL refuses the update (REPEATABLE READ). This
        report is then skipped for that machine instead of failing the request, which Odoo would
        retry after a random sleep of up to ~2 s while the worker's one-call-at-a-time link to Odoo,
        and so its event delivery, waits. Prompt reports are best effort on the worker's side too:
        the row holds the fold's news of the same moment, the machine's next event or the worker's
        periodic full report (30 s by default) carries the state again."""
        self.ensure_one()
        if not self._live_changes(vals):
            return False
        try:
            with self.env.cr.savepoint():
                self._lock_rows_quietly()
                return self._set_live(vals)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info("Live state report of machine %s skipped: written concurrently (%s)",
                         self.device_id, type(exc).__name__)
            return False

    def _lock_rows_quietly(self):
        """Lock these machines' rows before their live state is written. When another transaction
        wrote them after this one's snapshot (the fold cron in the cron process and ``worker.status``
        in an HTTP process of a multi-process Odoo), PostgreSQL refuses here, on our own statement,
        with ``log_exceptions=False``: the caller skips or postpones as before, without the "bad
        query" ERROR line Odoo's cursor would log for the ORM's UPDATE (Odoo's CI counts it as a
        failure). Once the lock is held, the UPDATE cannot be refused."""
        if self.ids:
            self.env.cr.execute(SQL(
                "SELECT id FROM workshop_device WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                tuple(self.ids)), log_exceptions=False)

    def _set_live(self, vals):
        """Write live fields unless the stored state is newer; True when something changed."""
        self.ensure_one()
        vals = self._live_changes(vals)
        if not vals:
            return False
        self.with_context(tracking_disable=True).write(vals)
        return set(vals) != {"live_changed_at"}

    def _live_changes(self, vals):
        """The live fields of ``vals`` that differ from the stored ones; none when the stored state
        is newer. Times beyond now count as now, stored or reported: a worker's clock running
        ahead (or one event dated 9999) must not make every later report look older for good.
        Last seen (the meter's last message) only moves forward, stale report or not: a report
        without it, or a restarted worker's coarser one, must not take it back."""
        self.ensure_one()
        now = fields.Datetime.now()
        vals = {k: (now if k in _LIVE_TIMES and v and v > now else v) for k, v in vals.items()}
        seen = vals.pop("live_last_seen_at", None)
        at = vals.get("live_changed_at")
        if self.live_changed_at and at and at < min(self.live_changed_at, now):
            vals = {}
        vals = {k: v for k, v in vals.items() if self[k] != v}
        if seen:
            seen = seen.replace(microsecond=0)  # as stored: an equal time is no change
            stored = self.live_last_seen_at
            if not stored or seen > stored or (stored > now and seen != stored):
                vals["live_last_seen_at"] = seen
        return vals

    def _notify_live_state(self):
        """Send each machine's tile dict to its company's dashboard channel (after commit).

        Only the websockets of workshop users (and managers) allowed in that company subscribe to
        it (``ir_websocket.py``): a user of company A never receives B's machines, and the
        integration user, outside the user group, receives nothing.
        """
        if not self:
            return
        for device, payload in zip(self, self._dashboard_payload()):
            self.env["bus.bus"]._sendone((device.company_id, DASHBOARD_SUBCHANNEL), BUS_TYPE, payload)
