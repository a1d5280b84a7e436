"""Machine alerts (see ``workshop_alert.py`` for the bookkeeping):

- ``machine_offline``: at once when the machine goes offline while a session ran, else once it has
  been offline longer than Settings "Machine offline alert after" (alerts cron); closed when it reports again;
- ``on_after_closing``: still on (starting, working, standby, stopping) after its area's closing time
  (alerts cron); closed when it is off;
- ``session_too_long``: its running session is longer than the machine's "Longest session" (alerts
  cron); closed when that session ends.

Areas (``workshop.area``) carry the closing time and the responsible of their machines, matched by
the machine's area name within its company.
"""

from datetime import timedelta

import pytz

from odoo import api, fields, models

ON_STATES = ("starting", "working", "standby", "stopping")
PARAM_OFFLINE_AFTER = "workshop_iot.machine_offline_alert_min"
DEFAULT_OFFLINE_AFTER_MIN = 60


class WorkshopArea(models.Model):
    """An area of machines (the machines' "Area" text): who answers for them and when it closes."""

    _name = "workshop.area"
    _description = "Workshop IoT Area"
    _order = "name, id"
    _check_company_auto = True
    _sql_constraints = [("name_company_unique", "UNIQUE(name, company_id)", "This area already exists.")]

    name = fields.Char(required=True, help="Exactly as typed in the machines' Area field.")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    responsible_id = fields.Many2one(
        "res.users", string="Responsible",
        help="Receives the alerts of this area's machines that have no responsible of their own. Empty: "
             "Settings > Workshop IoT > Responsible for alerts.")
    closing_time = fields.Float(
        string="Closing time",
        help="Local time (workshop timezone) after which a machine still on raises an alert. 0: no check.")


class WorkshopDevice(models.Model):
    _name = "workshop.device"
    _inherit = ["workshop.device", "workshop.alert.mixin"]

    alert_user_id = fields.Many2one(
        "res.users", string="Responsible", tracking=True,
        help="Receives this machine's alerts (activities). Empty: the area's responsible, else Settings > "
             "Workshop IoT > Responsible for alerts.")
    max_session_h = fields.Float(
        string="Longest session (hours)", tracking=True,
        help="A running session longer than this raises an alert (e.g. a machine left on). 0: no limit.")
    alert_text = fields.Char(string="Alert", compute="_compute_alert_text",
                             help="Summary of the machine's open alerts, shown on its dashboard tile.")

    def _compute_alert_text(self):
        texts = self._alert_texts()
        for device in self:
            device.alert_text = texts.get(device.id, False)

    def _alert_texts(self):
        """{machine id: the summaries of its open alerts, joined}: the dashboard tile's banner."""
        texts = {}
        for activity in self._alert_open().sorted("id"):
            texts.setdefault(activity.res_id, []).append(activity.summary or "")
        return {key: " · ".join(value) for key, value in texts.items()}

    def _alert_area(self):
        self.ensure_one()
        if not self.area:
            return self.env["workshop.area"]
        return self.env["workshop.area"].sudo().search(
            [("name", "=", self.area), ("company_id", "=", self.company_id.id)], limit=1)

    def _alert_responsible(self):
        return self.alert_user_id or self._alert_area().responsible_id or super()._alert_responsible()

    def _alert_changed(self):
        self._notify_live_state()

    # ------------------------------------------------------------------ evaluated on change
    def write(self, vals):
        if "live_state" not in vals:
            return super().write(vals)
        state = vals["live_state"]
        ran = set()
        if state == "offline":
            running = self.env["workshop.session"].sudo().search(
                [("device_id", "in", self.ids), ("state", "=", "running")])
            ran = set(running.device_id.ids) | {d.id for d in self if d.live_session_id}
        res = super().write(vals)
        if state == "offline":
            self.filtered(lambda d: d.id in ran)._alert_raise(
                "machine_offline", self.env._("Offline during a session"),
                self.env._("The machine's meter went silent while a session ran: check its power and network; "
                           "the session is flagged for review."))
        elif state != "unknown":  # unknown: Odoo closed the session of a silent worker, no news
            self._alert_clear("machine_offline", self.env._("The machine reports again (%s).", state))
        if state not in ON_STATES:
            self._alert_clear("on_after_closing", self.env._("The machine was switched off."))
        return res

    # ------------------------------------------------------------------ time-based (alerts cron)
    @api.model
    def _offline_alert_after(self):
        param = self.env["ir.config_parameter"].sudo().get_param(PARAM_OFFLINE_AFTER)
        return int(param) if param and param.isdigit() else DEFAULT_OFFLINE_AFTER_MIN

    @api.model
    def _cron_check_alerts(self, now=None):
        """Alerts cron: the time-based machine conditions, and the review digest."""
        now = now or fields.Datetime.now()
        devices = self.sudo().search([])
        offline_before = now - timedelta(minutes=self._offline_alert_after())
        devices.filtered(lambda d: d.live_state == "offline" and d.live_changed_at
                         and d.live_changed_at <= offline_before)._alert_raise(
            "machine_offline", self.env._("Offline for long"),
            self.env._("The machine has sent nothing for over %s minutes: check its meter's power and network.",
                       self._offline_alert_after()))
        devices._alert_check_closing(now)
        devices._alert_check_session_length(now)
        self.env["workshop.review.digest"]._refresh()

    def _alert_check_closing(self, now):
        tz = self._workshop_tz()
        local = pytz.utc.localize(now).astimezone(tz)
        hours = local.hour + local.minute / 60.0
        late = self.browse()
        for device in self.filtered(lambda d: d.live_state in ON_STATES):
            closing = device._alert_area().closing_time
            if closing and hours >= closing:
                late |= device
        late._alert_raise(
            "on_after_closing", self.env._("Still on after closing time"),
            self.env._("The machine is still on after its area's closing time: switch it off, or check who uses it."))
        self.filtered(lambda d: d.live_state not in ON_STATES)._alert_clear(
            "on_after_closing", self.env._("The machine was switched off."))

    def _alert_check_session_length(self, now):
        running = self.env["workshop.session"].sudo().search(
            [("device_id", "in", self.ids), ("state", "=", "running")])
        too_long = self.browse()
        for session in running:
            limit = session.device_id.max_session_h
            if limit and session.started_at <= now - timedelta(hours=limit):
                too_long |= session.device_id
        for device in too_long:
            device._alert_raise(
                "session_too_long", self.env._("Session longer than %s h", device.max_session_h),
                self.env._("The running session is longer than the machine's longest session: check the machine."))
        (self - too_long)._alert_clear("session_too_long", self.env._("The long session ended."))
