"""Equipment usage from the sessions of its machines, and what a blocking request does to them.

Usage (``_workshop_usage``), summed over every machine linked to the equipment (archived ones too):

- working hours: the sessions' working time (``working_s``: power above the machine's working
  threshold; standby time is not counted), of finished sessions and of a running one so far (its
  last heartbeat);
- sessions: finished sessions (done or timed out); a running session counts once it ends.

Blocking (``_workshop_refresh_blocking``): while the equipment has an open request (stage not done,
not archived) marked "Blocks the machine", each of its machines carries the alert
``maintenance_blocked`` (dashboard tile banner, activity of the equipment's technician), and every
session running on it, or ending after the request began blocking, is flagged
``maintenance_blocked`` (the base module's review: flagged sessions wait for a manager before
billing); the machine also gets the alert ``maintenance_used``. Both alerts close when no blocking
request is open any more; flagged sessions stay flagged (they did run during the maintenance).
"""

import logging

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.workshop_iot.tools import rights

_logger = logging.getLogger(__name__)

ALERT_BLOCKED = "maintenance_blocked"
ALERT_USED = "maintenance_used"


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    workshop_device_ids = fields.One2many(
        "workshop.device", "equipment_id", string="Machines",
        help="Workshop IoT machines of this equipment: their sessions are its usage.")
    workshop_working_hours = fields.Float(
        string="Working hours", compute="_compute_workshop_usage",
        help="Working time of the machines' sessions (power above the working threshold; standby not "
             "counted), finished sessions plus a running one so far.")
    workshop_session_count = fields.Integer(
        string="Sessions", compute="_compute_workshop_usage",
        help="Finished sessions of the machines (a running session counts once it ends).")
    workshop_plan_ids = fields.One2many(
        "workshop.maintenance.plan", "equipment_id", string="Maintenance plans by usage")

    # ------------------------------------------------------------------ computes
    @api.depends("workshop_device_ids")
    def _compute_workshop_usage(self):
        usage = self._workshop_usage()
        for equipment in self:
            figures = usage.get(equipment.id, {})
            equipment.workshop_working_hours = figures.get("hours", 0.0)
            equipment.workshop_session_count = figures.get("sessions", 0)

    # ------------------------------------------------------------------ actions
    def action_view_workshop_sessions(self):
        """The sessions of this equipment's machines."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop user; check_access
        # then requires read access to this equipment; the list applies the sessions' own rules.
        rights.require(self.env, rights.USER, self.env._("Viewing machine sessions"))
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("workshop_iot.workshop_session_action")
        devices = self.with_context(active_test=False).sudo().workshop_device_ids
        action["domain"] = [("device_id", "in", devices.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ usage
    def _workshop_usage(self):
        """``{equipment id: {"hours": working hours, "sessions": finished sessions}}`` of these
        equipment, from their machines' sessions, in one query (see the module docstring)."""
        ids = [i for i in self.ids if i]
        if not ids:
            return {}
        self.env["workshop.device"].flush_model(["equipment_id"])
        self.env["workshop.session"].flush_model(["device_id", "working_s", "state"])
        self.env.cr.execute(SQL(
            """SELECT d.equipment_id, COALESCE(SUM(s.working_s), 0),
                      COUNT(s.id) FILTER (WHERE s.state != 'running')
                 FROM workshop_device d
                 JOIN workshop_session s ON s.device_id = d.id
                WHERE d.equipment_id = ANY(%s)
             GROUP BY d.equipment_id""", ids))
        return {eid: {"hours": working_s / 3600.0, "sessions": count}
                for eid, working_s, count in self.env.cr.fetchall()}

    def _workshop_usage_changed(self):
        """Sessions of these equipment's machines changed (a fold, a session closed by Odoo): create
        the requests now due and flag sessions of blocked machines. Cheap for equipment without
        plans or blocking requests (two searches)."""
        equipment = self.sudo().filtered("id")
        if not equipment:
            return
        plans = self.env["workshop.maintenance.plan"].sudo().search([("equipment_id", "in", equipment.ids)])
        plans._trigger_due()
        equipment._workshop_blocked()._workshop_refresh_blocking()

    # ------------------------------------------------------------------ blocking
    def _workshop_blocking_requests(self):
        """Open requests of these equipment marked "Blocks the machine"."""
        return self.env["maintenance.request"].sudo().search([
            ("equipment_id", "in", self.ids), ("workshop_blocking", "=", True),
            ("stage_id.done", "=", False), ("archive", "=", False)], order="workshop_blocking_since, id")

    def _workshop_blocked(self):
        """Those of these equipment (all when empty) that have an open blocking request."""
        domain = [("workshop_blocking", "=", True), ("stage_id.done", "=", False), ("archive", "=", False),
                  ("equipment_id.workshop_device_ids", "!=", False)]
        if self:
            domain.append(("equipment_id", "in", self.ids))
        return self.env["maintenance.request"].sudo().search(domain).equipment_id

    def _workshop_refresh_blocking(self):
        """Alerts and session flags of these equipment's machines for their open blocking requests
        (see the module docstring); returns the sessions newly flagged."""
        Session = self.env["workshop.session"].sudo()
        flagged = Session.browse()
        requests = self._workshop_blocking_requests()
        for equipment in self.sudo():
            devices = equipment.workshop_device_ids.with_context(workshop_maintenance_alert=True)
            if not devices:
                continue
            blocking = requests.filtered(lambda r, e=equipment: r.equipment_id == e)
            if not blocking:
                devices._alert_clear(ALERT_BLOCKED, self.env._("No blocking maintenance request is open any more."))
                devices._alert_clear(ALERT_USED, self.env._("No blocking maintenance request is open any more."))
                continue
            names = ", ".join(blocking.mapped("name"))
            devices._alert_raise(
                ALERT_BLOCKED, self.env._("Blocked for maintenance: %s", names),
                self.env._("Open maintenance request(s) of %(equipment)s block this machine: %(requests)s. "
                           "Sessions meanwhile are flagged for review.", equipment=equipment.name, requests=names))
            since = min(blocking.mapped("workshop_blocking_since"))
            sessions = Session.search([
                ("device_id", "in", devices.ids), ("maintenance_blocked", "=", False),
                "|", ("state", "=", "running"), ("ended_at", ">=", since)])
            if not sessions:
                continue
            first = blocking[:1]
            sessions.write({
                "maintenance_blocked": True,
                "maintenance_request_id": first.id,
                "maintenance_block_reason": self.env._(
                    "Ran while maintenance request '%(request)s' of %(equipment)s blocked the machine",
                    request=first.name, equipment=equipment.name),
            })
            devices.filtered(lambda d, s=sessions: d in s.device_id)._alert_raise(
                ALERT_USED, self.env._("Used during blocking maintenance"),
                self.env._("A session ran while maintenance request '%(request)s' blocked the machine: "
                           "%(sessions)s", request=first.name, sessions=", ".join(sessions.mapped("display_name"))))
            flagged |= sessions
        if flagged:
            _logger.info("Flagged %s session(s) that ran during blocking maintenance: %s", len(flagged), flagged.ids)
            self.env["workshop.review.digest"]._refresh_unless_concurrent()
        return flagged
