import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import billing, durations, rights
from .bigint_field import BigInteger

_logger = logging.getLogger(__name__)

# A running session is closed by Odoo (reason timeout) when its worker has been silent for the
# stale delay (workshop.worker._stale_after_s) and the session itself for this many heartbeats.
STALE_HEARTBEATS = 3
# Who set a session's member, lowest first: a higher source is never overwritten by a lower one.
SOURCE_RANK = {False: 0, None: 0, "machine": 1, "manual": 2, "claim": 3, "badge": 4}


class WorkshopSession(models.Model):
    """One machine usage session: from power on to power off, with working/standby time and billing."""

    _name = "workshop.session"
    _description = "Machine Usage Session"
    # The chatter records who reviewed a flagged session, with the note, who claimed it, and a
    # manager's manual member (member_id is tracked). The fold writes with ``tracking_disable``
    # (workshop_event_fold ``_fold_items``): ingest pays nothing for it.
    _inherit = ["mail.thread"]
    _order = "started_at desc, id desc"
    _rec_names_search = ["device_id", "session_uid"]
    _sql_constraints = [
        ("session_uid_unique", "UNIQUE(session_uid)", "A session with this worker session id already exists."),
        ("durations_positive", "CHECK (total_s >= 0 AND working_s >= 0 AND standby_s >= 0 AND energy_wh >= 0)",
         "Session durations and energy cannot be negative."),
        # Small tolerance: the three sums come from float seconds computed by the worker.
        ("durations_consistent", "CHECK (working_s + standby_s <= total_s + 0.001)",
         "Working + standby time cannot exceed the session's total time."),
        ("end_after_start", "CHECK (ended_at IS NULL OR ended_at >= started_at)",
         "A session cannot end before it started."),
    ]

    # ------------------------------------------------------------------ fields
    session_uid = fields.Char(string="Session UUID", required=True, readonly=True, index=True,
                              help="Session id assigned by the worker (payload session_id).")
    # Who used the machine (issue 16). Set by, in this order of precedence: a badge presented at the
    # machine, a claim from the dashboard, a manager's assignment, the machine's default member.
    member_id = fields.Many2one(
        "res.partner", string="Member", index=True, ondelete="restrict", tracking=True,
        help="Who used the machine: from a badge, a claim on the dashboard, a manager, or the machine's "
        "default member, in that order of precedence.")
    member_source = fields.Selection(
        [("machine", "Machine's default member"), ("manual", "Assigned by a manager"),
         ("claim", "Claimed on the dashboard"), ("badge", "Badge")],
        string="Member from", readonly=True, help="What set the member (the precedence order, lowest first).")
    device_id = fields.Many2one("workshop.device", string="Machine", required=True, readonly=True,
                                ondelete="restrict", index=True)
    area = fields.Char(related="device_id.area", store=True, help="Area of the machine, for reporting.")
    # The machine's company when the session began; not a related field, so that moving a machine
    # to another company does not move its past sessions (and their billing) with it.
    company_id = fields.Many2one(
        "res.company", string="Company", compute="_compute_company_id", store=True, precompute=True,
        readonly=True, index=True)
    worker_id = fields.Many2one("workshop.worker", string="Worker", readonly=True, ondelete="set null")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("timeout", "Timed out")],
        default="running", required=True, readonly=True, index=True,
        help="Running until a session_stopped event (or Odoo's stale-session cron) closes it.",
    )
    stop_reason = fields.Selection(
        [("power_off", "Power off"), ("timeout", "Timeout"), ("removed", "Machine removed"),
         ("shutdown", "Worker shutdown"), ("member_change", "Next member's badge")],
        string="Ended by", readonly=True)
    # A different member's badge during a session splits it (readme/USAGE.md): every part is a
    # session of its own; they share the worker's session id, the first part keeps it as session_uid.
    worker_session_uid = fields.Char(
        string="Worker session UUID", compute="_compute_worker_session_uid", store=True, index=True,
        help="The worker's session id; the same on every part of a session split by badges.")
    split_index = fields.Integer(
        string="Part", readonly=True, default=0,
        help="0 for a session as the worker reported it or the first part of a split one; 1, 2... for "
             "the parts that started with another member's badge.")
    started_at = fields.Datetime(
        string="Started",
        required=True,
        readonly=True,
        index=True,
        help="When power first crossed the standby threshold.",
    )
    ended_at = fields.Datetime(
        string="Ended",
        readonly=True,
        help="When power dropped (the stop debounce is not billed).",
    )
    last_event_at = fields.Datetime(string="Last report", readonly=True, help="End of the last reported interval.")
    total_s = fields.Float(string="Total (s)", readonly=True)
    working_s = fields.Float(string="Working (s)", readonly=True)
    standby_s = fields.Float(string="Standby (s)", readonly=True)
    energy_wh = fields.Float(string="Energy (Wh)", readonly=True, help="Energy reported by the meter, if any.")
    # Hour twins for widget="workshop_duration" (H:MM:SS) and for list/pivot/graph sums. They hold the
    # shown whole seconds (tools/durations.py), so working + standby adds up to what is shown.
    total_hours = fields.Float(compute="_compute_hours", store=True, string="Total time")
    working_hours = fields.Float(compute="_compute_hours", store=True, string="Working time")
    standby_hours = fields.Float(compute="_compute_hours", store=True, string="Standby time")

    event_ids = fields.One2many("workshop.event", "session_id", string="Events")
    first_seq = BigInteger(
        string="First sequence",
        readonly=True,
        help="Lowest per-device seq of this session's events received.",
    )
    last_seq = BigInteger(
        string="Last sequence",
        readonly=True,
        help="Highest per-device seq of this session's events received.",
    )
    applied_seq = BigInteger(
        string="Applied sequence",
        readonly=True,
        help="Seq of the event whose cumulative totals are applied.",
    )
    event_count = fields.Integer(string="Number of events", readonly=True)
    has_start_event = fields.Boolean(string="Start received", readonly=True)
    has_stop_event = fields.Boolean(string="Stop received", readonly=True)

    # Data-quality flags: billing reviews flagged sessions before invoicing.
    seq_gap_count = fields.Integer(
        string="Missing events", readonly=True,
        help="Per-device seq numbers missing between the first and last event of the session.")
    late_event_count = fields.Integer(
        string="Late events", readonly=True,
        help="Events received long after they occurred (delivered from the worker's outbox).")
    closed_by_odoo = fields.Boolean(
        string="Closed by Odoo", readonly=True,
        help="Closed by Odoo's stale-session cron because the worker stopped reporting.")
    changed_after_billing = fields.Boolean(
        string="Changed after billing", readonly=True,
        help="Late events changed the times after the session was marked billed.")
    offline_report_count = fields.Integer(
        string="Offline reports", readonly=True,
        help="device_offline events of the machine between the session's first and last event: the meter "
        "went silent during the session, so time may be missing.")
    offline_segment = fields.Boolean(
        string="Offline segment", compute="_compute_offline_segment", store=True,
        help="The machine went offline during the session, or the session ended by timeout (the meter "
        "or the worker went silent): its end and totals are the last reported ones.")
    needs_review = fields.Boolean(
        string="Flagged", compute="_compute_needs_review", store=True, index=True,
        help="A data-quality flag is set (missing or late events, offline segment, closed by Odoo, changed "
        "after billing, no start event): a manager reviews the session before it is billed.")
    # Review (issue 16): set by action_mark_reviewed, cleared when the fold changes the session later.
    # (The chatter gets one message per review, with the note: see action_mark_reviewed.)
    reviewed_by_id = fields.Many2one("res.users", string="Reviewed by", readonly=True)
    reviewed_at = fields.Datetime(string="Reviewed on", readonly=True)
    review_note = fields.Text(string="Review note", readonly=True)
    review_pending = fields.Boolean(
        string="To review", compute="_compute_review_pending", store=True, index=True,
        help="Flagged and not reviewed since its last change: cannot be billed until a manager reviews it.")

    currency_id = fields.Many2one(related="device_id.currency_id")
    billable_s = fields.Float(string="Billable (s)", readonly=True, help="Time billable under the machine's policy.")
    billable_hours = fields.Float(compute="_compute_hours", store=True, string="Billable time")
    billing_units = fields.Integer(string="Units", readonly=True, help="Billing units after rounding and minimum.")
    billing_amount = fields.Monetary(string="Amount", readonly=True, help="Units x price per unit of the machine.")
    billing_state = fields.Selection(
        [("pending", "Running"), ("to_bill", "To bill"), ("billed", "Billed")],
        string="Billing", default="pending", required=True, readonly=True, index=True,
        help="Billed sessions keep their figures when the machine's billing policy changes.")
    billed_at = fields.Datetime(string="Billed on", readonly=True)
    billed_by_id = fields.Many2one("res.users", string="Billed by", readonly=True)

    # ------------------------------------------------------------------ computes
    @api.depends("device_id")
    def _compute_company_id(self):
        for session in self:
            session.company_id = session.device_id.company_id

    @api.depends("session_uid", "split_index")
    def _compute_worker_session_uid(self):
        for session in self:
            uid = session.session_uid or ""
            session.worker_session_uid = uid.rsplit("/", 1)[0] if session.split_index else uid

    @api.depends("total_s", "working_s", "standby_s", "billable_s")
    def _compute_hours(self):
        for session in self:
            total, working, standby = durations.shown_parts(session.total_s, session.working_s, session.standby_s)
            session.total_hours = total / 3600.0
            session.working_hours = working / 3600.0
            session.standby_hours = standby / 3600.0
            session.billable_hours = durations.whole_seconds(session.billable_s) / 3600.0

    @api.depends("stop_reason", "offline_report_count")
    def _compute_offline_segment(self):
        for session in self:
            session.offline_segment = bool(session.stop_reason == "timeout" or session.offline_report_count)

    @api.depends("seq_gap_count", "late_event_count", "closed_by_odoo", "changed_after_billing",
                 "has_start_event", "state", "offline_segment")
    def _compute_needs_review(self):
        for session in self:
            session.needs_review = bool(
                session.seq_gap_count or session.late_event_count or session.closed_by_odoo
                or session.changed_after_billing or session.offline_segment
                or (session.state != "running" and not session.has_start_event)
            )

    @api.depends("needs_review", "reviewed_at")
    def _compute_review_pending(self):
        for session in self:
            session.review_pending = session.needs_review and not session.reviewed_at

    @api.depends("device_id", "started_at")
    def _compute_display_name(self):
        for session in self:
            started = fields.Datetime.context_timestamp(session, session.started_at) if session.started_at else None
            session.display_name = "%s %s" % (
                session.device_id.name or "",
                started.strftime("%Y-%m-%d %H:%M") if started else "",
            )

    # ------------------------------------------------------------------ members
    def write(self, vals):
        # A member set over the ORM (session form, RPC) is a manager's manual assignment; the fold
        # and claims go through _set_member, which passes the source in the context.
        if "member_id" in vals and not self.env.context.get("workshop_member_source"):
            rights.require(self.env, rights.MANAGER, _("Assigning a member to a session"))
            higher = self.filtered(lambda s: SOURCE_RANK.get(s.member_source, 0) > SOURCE_RANK["manual"])
            if higher:
                raise UserError(_(
                    "The member of %(sessions)s comes from a badge or a claim on the dashboard, which a "
                    "manual assignment does not override.", sessions=", ".join(higher.mapped("display_name"))))
            vals = dict(vals, member_source="manual" if vals["member_id"] else False)
        return super().write(vals)

    def _set_member(self, member, source):
        """Set ``member`` from ``source`` (machine, manual, claim, badge) on the sessions whose member
        does not come from a higher source. Returns the sessions changed. No rights check: callers
        check theirs (the fold runs as superuser; a claim checks the user's group)."""
        rank = SOURCE_RANK[source]
        todo = self.filtered(lambda s: SOURCE_RANK.get(s.member_source, 0) <= rank
                             and (s.member_id != member or s.member_source != source))
        if todo:
            todo.with_context(workshop_member_source=source).write(
                {"member_id": member.id, "member_source": source})
        return todo

    # ------------------------------------------------------------------ actions
    def action_mark_billed(self):
        """Mark closed sessions as billed: their billing figures are frozen from now on. Managers
        only (AccessError otherwise; the write is also checked by the access rules). Refused, naming
        them, while a session is running or flagged and not reviewed (``_check_billable``)."""
        rights.require(self.env, rights.MANAGER, _("Marking sessions billed"))
        self._check_billable()
        self.filtered(lambda s: s.billing_state != "billed").write({
            "billing_state": "billed", "billed_at": fields.Datetime.now(), "billed_by_id": self.env.uid,
        })

    def action_reset_billing(self):
        """Undo "billed" and recompute. Administrators only (AccessError otherwise): billed sessions
        are locked for managers."""
        rights.require(self.env, rights.SYSTEM, _("Resetting the billing of sessions"))
        self.filtered(lambda s: s.billing_state == "billed").write({
            "billing_state": "to_bill", "billed_at": False, "billed_by_id": False, "changed_after_billing": False,
        })
        self._update_billing()

    # ------------------------------------------------------------------ billing
    def _billing_vals(self, device, working_s, standby_s, state):
        """Billing fields for the given times under ``device``'s current policy."""
        seconds = billing.billable_seconds(working_s, standby_s, device.billing_basis)
        units = billing.billing_units(seconds, device.billing_unit_minutes, device.billing_rounding,
                                      device.billing_min_units)
        return {
            "billable_s": seconds,
            "billing_units": units,
            "billing_amount": units * (device.billing_price_unit or 0.0),
            "billing_state": "pending" if state == "running" else "to_bill",
        }

    def _update_billing(self):
        """Recompute billing figures of sessions not billed yet (billed ones are left untouched)."""
        for session in self.filtered(lambda s: s.billing_state != "billed"):
            vals = self._billing_vals(session.device_id, session.working_s, session.standby_s, session.state)
            vals = {k: v for k, v in vals.items() if session[k] != v}
            if vals:
                session.write(vals)

    # ------------------------------------------------------------------ crons
    @api.model
    def _cron_close_stale_sessions(self):
        """Cron: close running sessions whose worker stopped reporting, with reason timeout.

        The session ends at its last reported activity (never "now": silence is not usage). If the
        worker comes back and sends its own session_stopped, that event replaces these figures.
        """
        now = fields.Datetime.now()
        worker_stale = now - timedelta(seconds=self.env["workshop.worker"]._stale_after_s())
        closed = self.browse()
        for session in self.search([("state", "=", "running")]):
            worker = session.worker_id or session.device_id.worker_id
            # A live worker keeps open only sessions of machines still assigned to it: once a
            # machine moved, its stop is refused (DEVICE_FORBIDDEN), so silence must close it.
            if (worker and worker.last_seen_at and worker.last_seen_at >= worker_stale
                    and session.device_id.worker_id == worker):
                continue
            device = session.device_id
            quiet_s = max(STALE_HEARTBEATS * device.heartbeat_interval_s, device.message_timeout_s)
            last = session.last_event_at or session.started_at
            if last > now - timedelta(seconds=quiet_s):
                continue
            ended = max(last, session.started_at)
            total = max(session.total_s, session.working_s + session.standby_s)
            session.write({
                "state": "timeout", "stop_reason": "timeout", "ended_at": ended, "total_s": total,
                "closed_by_odoo": True,
                **session._billing_vals(device, session.working_s, session.standby_s, "timeout"),
            } if session.billing_state != "billed" else {
                "state": "timeout", "stop_reason": "timeout", "ended_at": ended, "closed_by_odoo": True,
            })
            closed |= session
        if closed:
            _logger.info(
                "Closed %s stale session(s) with reason timeout: %s",
                len(closed),
                closed.mapped("session_uid"),
            )
            devices = closed.device_id.filtered(lambda d: d.live_session_id in closed.mapped("session_uid"))
            for device in devices:
                device._set_live({"live_state": "unknown", "live_session_id": False, "live_power_w": 0.0,
                                  "live_session_started_at": False, "live_session_working_s": 0.0,
                                  "live_session_standby_s": 0.0, "live_changed_at": now})
            devices._notify_live_state()
        return closed
