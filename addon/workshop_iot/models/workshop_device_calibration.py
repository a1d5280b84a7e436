"""Calibrate a machine's session detection from its recorded readings (issue 18).

"Calibrate" on the machine form opens ``workshop.device.calibration``: it calls the worker's
``analysis.run`` (``shared/src/contracts/analysis.ts``; admin token, so managers only, checked here)
for a time range, shows the power histogram (``static/src/calibration/histogram_field.js``), the
current and the proposed settings side by side, and the sessions each would have produced with
their billing units under the machine's own policy (``workshop.session._billing_vals``). "Re-run"
sends the edited values as ``candidate``; "Apply" writes them on the machine, whose normal
post-commit config push follows (readme/USAGE.md, "Calibrate a machine").

A worker that cannot answer (no URL, never said hello, down, refusing, an answer that is not the
contract's) is a readable message in the dialog, never a traceback or an empty chart.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import rights, worker_client
from ..tools.exceptions import WorkerCallError
from ..tools.timeutil import parse_wire_ts, to_wire_ts
from .workshop_device import _validators

_logger = logging.getLogger(__name__)

# The six session settings the analysis proposes (SessionConfig), in the contract's order.
SESSION_FIELDS = ("standby_threshold_w", "working_threshold_w", "start_debounce_s", "stop_debounce_s",
                  "message_timeout_s", "heartbeat_interval_s")
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
METHOD_NOT_FOUND = -32601  # JSON-RPC: a worker older than analysis.run


class WorkshopDevice(models.Model):
    _inherit = "workshop.device"

    def action_calibrate(self):
        """Button "Calibrate": the analysis of the last 7 days in a dialog."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Calibrating a machine"))
        wizard = self.env["workshop.device.calibration"].create({"device_id": self.id})
        wizard._run_and_show()
        return wizard._reopen()


class WorkshopDeviceCalibration(models.TransientModel):
    _name = "workshop.device.calibration"
    _description = "Calibrate a machine"

    device_id = fields.Many2one("workshop.device", string="Machine", required=True, readonly=True,
                                ondelete="cascade")
    period = fields.Selection(
        [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("custom", "Custom")],
        string="Range", default="7d", required=True)
    date_from = fields.Datetime(string="From", required=True, default=lambda self: fields.Datetime.now() - RANGES["7d"])
    date_to = fields.Datetime(string="To", required=True, default=fields.Datetime.now)
    error_message = fields.Text(string="Problem", readonly=True)
    readings = fields.Integer(string="Readings", readonly=True)
    first_reading_at = fields.Datetime(string="First reading", readonly=True)
    last_reading_at = fields.Datetime(string="Last reading", readonly=True)
    # {"bins": [...], "clusters": [...]} of the last answer, drawn by the histogram widget with the
    # current and proposed thresholds it reads from the record.
    chart_data = fields.Json(string="Power histogram", readonly=True)
    explanation = fields.Text(string="How the values were chosen", readonly=True)

    current_standby_threshold_w = fields.Float(string="Standby threshold (W)", readonly=True)
    current_working_threshold_w = fields.Float(string="Working threshold (W)", readonly=True)
    current_start_debounce_s = fields.Integer(string="Start debounce (s)", readonly=True)
    current_stop_debounce_s = fields.Integer(string="Stop debounce (s)", readonly=True)
    current_message_timeout_s = fields.Integer(string="Message timeout (s)", readonly=True)
    current_heartbeat_interval_s = fields.Integer(string="Heartbeat interval (s)", readonly=True)
    proposed_standby_threshold_w = fields.Float(string="Proposed standby threshold (W)")
    proposed_working_threshold_w = fields.Float(string="Proposed working threshold (W)")
    proposed_start_debounce_s = fields.Integer(string="Proposed start debounce (s)")
    proposed_stop_debounce_s = fields.Integer(string="Proposed stop debounce (s)")
    proposed_message_timeout_s = fields.Integer(string="Proposed message timeout (s)")
    proposed_heartbeat_interval_s = fields.Integer(string="Proposed heartbeat interval (s)")

    current_session_ids = fields.One2many(
        "workshop.device.calibration.session", "wizard_id",
        domain=[("side", "=", "current")], string="Sessions with the current settings")
    proposed_session_ids = fields.One2many(
        "workshop.device.calibration.session", "wizard_id",
        domain=[("side", "=", "proposed")], string="Sessions with the proposed settings")
    current_omitted = fields.Integer(string="Current sessions not listed", readonly=True)
    proposed_omitted = fields.Integer(string="Proposed sessions not listed", readonly=True)
    current_count = fields.Integer(string="Sessions (current)", compute="_compute_totals")
    proposed_count = fields.Integer(string="Sessions (proposed)", compute="_compute_totals")
    current_units = fields.Integer(string="Billing units (current)", compute="_compute_totals")
    proposed_units = fields.Integer(string="Billing units (proposed)", compute="_compute_totals")
    current_working_hours = fields.Float(string="Working time (current)", compute="_compute_totals")
    proposed_working_hours = fields.Float(string="Working time (proposed)", compute="_compute_totals")

    # ------------------------------------------------------------------ computes
    @api.depends("current_session_ids.billing_units", "current_session_ids.working_hours", "current_omitted",
                 "proposed_session_ids.billing_units", "proposed_session_ids.working_hours", "proposed_omitted")
    def _compute_totals(self):
        for wizard in self:
            for side in ("current", "proposed"):
                lines = wizard[side + "_session_ids"]
                wizard[side + "_count"] = len(lines) + wizard[side + "_omitted"]
                wizard[side + "_units"] = sum(lines.mapped("billing_units"))
                wizard[side + "_working_hours"] = sum(lines.mapped("working_hours"))

    # ------------------------------------------------------------------ onchange
    @api.onchange("period")
    def _onchange_period(self):
        if self.period in RANGES:
            self.date_to = fields.Datetime.now()
            self.date_from = self.date_to - RANGES[self.period]

    # ------------------------------------------------------------------ actions
    def action_run(self):
        """Button "Analyse": the worker's proposal for the chosen range (no candidate)."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Calibrating a machine"))
        self._run_and_show()
        return self._reopen()

    def action_rerun(self):
        """Button "Re-run": replay the edited proposed values (sent as ``candidate``)."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Calibrating a machine"))
        self._run_and_show(candidate=self._proposed_config())
        return self._reopen()

    def action_apply(self):
        """Button "Apply": write the proposed values on the machine (its config push follows)."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager; the
        # write itself is the caller's (ORM rights on workshop.device).
        rights.require(self.env, rights.MANAGER, self.env._("Calibrating a machine"))
        config = self._proposed_config()
        self.device_id.write(config)
        return {"type": "ir.actions.act_window_close"}

    # ------------------------------------------------------------------ business
    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new",
                "name": self.env._("Calibrate %s", self.device_id.name)}

    def _proposed_config(self):
        """The edited values as a SessionConfig, checked by the machine's own rules first (the form's
        ValidationError, e.g. "0 <= standby < working", before anything reaches the worker)."""
        config = {name: self["proposed_" + name] for name in SESSION_FIELDS}
        self.device_id.new(config, origin=self.device_id)._check_session_config()
        return config

    def _run_and_show(self, candidate=None):
        """Run the analysis and fill the dialog; a worker problem becomes ``error_message``."""
        try:
            result = self._fetch(candidate)
        except UserError as exc:
            self._clear(exc.args[0])
            return
        if not result["readings"]:
            message = self.env._(
                "The worker has no recorded readings of %(machine)s between %(start)s and %(end)s: "
                "check that 'Record readings' is on for this machine and in the worker's settings, "
                "then let it record for a while (or choose a longer range).",
                machine=self.device_id.name, start=self._local(self.date_from), end=self._local(self.date_to))
            self._clear("\n".join([message, *result["explanation"]]))
            return
        self._show(result, candidate)

    def _fetch(self, candidate):
        """``analysis.run`` for this dialog's machine and range: the checked result, or a
        ``UserError`` that says what went wrong and what to do."""
        device = self.device_id.sudo()
        worker = device.worker_id
        if not worker:
            raise UserError(self.env._("%s has no worker: assign the worker that reads its meter.", device.name))
        if not worker.url:
            raise UserError(self.env._(
                "Worker %s has no URL: Odoo cannot ask it for the recorded readings. Set the worker's "
                "URL on its form (it is filled in by its first hello).", worker.name))
        if not worker.last_hello_at:
            raise UserError(self.env._(
                "Worker %s never said hello to Odoo: start it (or check its Odoo settings) before "
                "calibrating its machines.", worker.name))
        if self.date_to <= self.date_from:
            raise UserError(self.env._("The range must end after it starts."))
        params = {"device_id": device.device_id, "from": to_wire_ts(self.date_from), "to": to_wire_ts(self.date_to)}
        if candidate:
            params["candidate"] = candidate
        try:
            result = worker_client.call(worker.url, worker.token, "analysis.run", params)
        except WorkerCallError as exc:
            raise UserError(self._call_error_message(exc, worker)) from exc
        errors = _validators().validate_analysis_run_result(result)
        if errors:
            _logger.warning("Worker %s: unexpected analysis.run answer at %s: %s",
                            worker.name, errors[0]["path"], errors[0]["message"])
            raise UserError(self.env._(
                "The worker %(worker)s answered analysis.run with something Odoo does not understand "
                "(at %(path)s: %(message)s) — do the worker and the addon run matching versions?",
                worker=worker.name, path=errors[0]["path"], message=errors[0]["message"]))
        return result

    def _call_error_message(self, exc, worker):
        """The readable text of a failed call. The worker's catalogue codes (``error.data.code``,
        worker/README.md "Error codes") that an admin can act on get their own advice."""
        code = exc.data.get("code") if isinstance(exc.data, dict) else None
        if code == "METHOD_NOT_FOUND" or "(code %s)" % METHOD_NOT_FOUND in exc.message:
            return self.env._(
                "Worker %s cannot calibrate (it has no analysis.run): update the worker.", worker.name)
        if code == "DEVICE_NOT_FOUND":
            return self.env._(
                "Worker %(worker)s does not run %(machine)s yet: push the config to the worker, wait "
                "until it is applied, then calibrate.", worker=worker.name, machine=self.device_id.name)
        if code == "RECORDING_UNAVAILABLE":
            return self.env._(
                "Worker %(worker)s keeps no recording of readings (%(detail)s): turn on 'recording' in "
                "the worker's settings, let it record for a while, then calibrate.",
                worker=worker.name, detail=exc.data.get("reason") or "-")
        return exc.message

    def _clear(self, message):
        """Show ``message`` instead of results (no chart, no session lists)."""
        self.current_session_ids.unlink()
        self.proposed_session_ids.unlink()
        self.write({"error_message": message, "chart_data": False, "explanation": False, "readings": 0,
                    "first_reading_at": False, "last_reading_at": False,
                    "current_omitted": 0, "proposed_omitted": 0})

    def _show(self, result, candidate):
        """Fill the dialog from a checked ``analysis.run`` result."""
        lines = self.env["workshop.device.calibration.session"]
        (self.current_session_ids | self.proposed_session_ids).unlink()
        vals = {
            "error_message": False, "readings": result["readings"],
            "first_reading_at": parse_wire_ts(result["first_reading_at"]) or False,
            "last_reading_at": parse_wire_ts(result["last_reading_at"]) or False,
            "chart_data": {"bins": result["histogram"], "clusters": result["clusters"]},
            "explanation": "\n".join(result["explanation"]) or False,
            "current_omitted": result["current"]["sessions_omitted"],
            "proposed_omitted": result["proposed"]["sessions_omitted"],
        }
        for name in SESSION_FIELDS:
            vals["current_" + name] = result["current"]["session_config"][name]
            # A re-run keeps the admin's values; a first run shows the worker's proposal.
            vals["proposed_" + name] = (candidate or result["proposed_config"])[name]
        self.write(vals)
        for side in ("current", "proposed"):
            lines.create([lines._vals_from_wire(self, side, item) for item in result[side]["sessions"]])

    def _local(self, value):
        return fields.Datetime.to_string(fields.Datetime.context_timestamp(self, value))


class WorkshopDeviceCalibrationSession(models.TransientModel):
    _name = "workshop.device.calibration.session"
    _description = "Session replayed by a calibration"
    _order = "started_at, id"

    wizard_id = fields.Many2one("workshop.device.calibration", required=True, ondelete="cascade")
    side = fields.Selection([("current", "Current settings"), ("proposed", "Proposed settings")], required=True)
    started_at = fields.Datetime(string="Start", readonly=True)
    ended_at = fields.Datetime(string="End", readonly=True)
    reason = fields.Selection(
        [("power_off", "Power off"), ("timeout", "Timeout"), ("removed", "Removed"), ("shutdown", "Shutdown"),
         ("open", "Still running")], string="End reason", readonly=True)
    total_hours = fields.Float(string="Duration", readonly=True)
    working_hours = fields.Float(string="Working", readonly=True)
    standby_hours = fields.Float(string="Standby", readonly=True)
    energy_wh = fields.Float(string="Energy (Wh)", readonly=True)
    billing_units = fields.Integer(string="Units", readonly=True,
                                   help="Billing units under the machine's billing policy.")

    @api.model
    def _vals_from_wire(self, wizard, side, item):
        """Row of one ReplayedSession, billed by the machine's own policy (the sessions' formula)."""
        state = "running" if item["ended_at"] is None else "closed"
        bill = self.env["workshop.session"]._billing_vals(wizard.device_id, item["working_s"], item["standby_s"], state)
        return {
            "wizard_id": wizard.id, "side": side,
            "started_at": parse_wire_ts(item["started_at"]), "ended_at": parse_wire_ts(item["ended_at"]) or False,
            "reason": item["reason"], "total_hours": item["total_s"] / 3600.0,
            "working_hours": item["working_s"] / 3600.0, "standby_hours": item["standby_s"] / 3600.0,
            "energy_wh": item["energy_wh"] or 0.0, "billing_units": bill["billing_units"],
        }
