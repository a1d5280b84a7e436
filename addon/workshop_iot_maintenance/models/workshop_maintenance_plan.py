"""Maintenance plans by usage: "every 200 working hours", "every 50 sessions" of one equipment.

How a plan triggers (readme USAGE.md "Maintenance plans by usage"):

- when the equipment's usage (``maintenance.equipment._workshop_usage``) reaches the plan's *next due*
  value (``baseline + interval``), ONE preventive maintenance request is created, with the usage at
  that moment written on it, and the baseline moves to the last due value crossed: the previous due
  plus whole intervals, never "usage now + interval", so late checks do not make the schedule drift;
- several intervals crossed at once (a long session, a plan whose baseline lies far back) give one
  request, which says how many intervals it skipped;
- once per crossing, also under concurrent checks: the plan row is locked (``FOR UPDATE NOWAIT``)
  and read again before the request is created. A transaction that finds the row locked, or changed
  since its snapshot, leaves the plan to the one that holds it (the cron checks again anyway).
  Checking again creates nothing: the baseline has moved past the usage.
- checked after each fold of events of a machine linked to an equipment with plans
  (``workshop_event.py``), after Odoo closes sessions of silent workers, and by a cron.
"""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from odoo.addons.workshop_iot.tools import rights

_logger = logging.getLogger(__name__)

# Group of Maintenance's managers: they may manage plans as workshop managers do.
EQUIPMENT_MANAGER = "maintenance.group_equipment_manager"


def _number(value):
    """200.0 -> "200", 203.456 -> "203.46": usage figures as people write them."""
    return ("%.2f" % value).rstrip("0").rstrip(".")


class WorkshopMaintenancePlan(models.Model):
    """A usage-based maintenance plan of one equipment: a request every N working hours or sessions."""

    _name = "workshop.maintenance.plan"
    _description = "Maintenance plan by usage"
    _order = "equipment_id, id"
    _check_company_auto = True
    _sql_constraints = [
        ("interval_positive", "CHECK (interval > 0)", "The interval of a maintenance plan must be greater than zero."),
    ]

    # ------------------------------------------------------------------ fields
    name = fields.Char(required=True, help="What to do, e.g. 'Clean the lens and mirrors'.")
    active = fields.Boolean(default=True, help="An archived plan creates no requests.")
    equipment_id = fields.Many2one(
        "maintenance.equipment", string="Equipment", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="equipment_id.company_id", store=True, index=True)
    metric = fields.Selection(
        [("hours", "Working hours"), ("sessions", "Sessions")], string="Counted in", required=True,
        default="hours",
        help="Working hours: the machines' working time (power above the working threshold; standby not "
             "counted), including a running session so far. Sessions: finished sessions.")
    interval = fields.Float(
        string="Every", required=True, default=200.0,
        help="A request every this many working hours or sessions, e.g. 200 (hours) or 50 (sessions).")
    baseline = fields.Float(
        string="Counted from",
        help="Usage of the last trigger: the next request is due at this value plus the interval. Set to "
             "the equipment's usage when the plan is created; correct it by hand after a maintenance done "
             "outside the plan.")
    next_due = fields.Float(
        string="Next due at", compute="_compute_next_due", store=True,
        help="Usage at which the next request is created: counted from + every.")
    current_usage = fields.Float(
        string="Usage now", compute="_compute_current_usage",
        help="The equipment's usage in this plan's unit, from its machines' sessions.")
    maintenance_team_id = fields.Many2one(
        "maintenance.team", string="Team", check_company=True,
        help="Team of the requests; empty: the equipment's team.")
    user_id = fields.Many2one(
        "res.users", string="Responsible", domain=[("share", "=", False)],
        help="Technician of the requests; empty: the equipment's technician.")
    request_name = fields.Char(
        string="Request title",
        help="Title of the requests; {due} is replaced by the usage it was due at (e.g. '200 h'). "
             "Empty: the plan's name and the usage it was due at.")
    blocking = fields.Boolean(
        string="Blocks the machine",
        help="Its requests block the machines of the equipment until they are done: a session running "
             "meanwhile is flagged for review and the machine's responsible gets an alert.")
    request_ids = fields.One2many("maintenance.request", "workshop_plan_id", string="Requests")
    request_count = fields.Integer(string="Number of requests", compute="_compute_request_count")
    last_request_id = fields.Many2one("maintenance.request", string="Last request", readonly=True)

    # ------------------------------------------------------------------ computes
    @api.depends("baseline", "interval")
    def _compute_next_due(self):
        for plan in self:
            plan.next_due = plan.baseline + plan.interval

    @api.depends("equipment_id", "metric")
    def _compute_current_usage(self):
        usage = self.equipment_id._workshop_usage()
        for plan in self:
            plan.current_usage = usage.get(plan.equipment_id.id, {}).get(plan.metric, 0.0)

    def _compute_request_count(self):
        counts = dict(self.env["maintenance.request"].sudo()._read_group(
            [("workshop_plan_id", "in", self.ids)], ["workshop_plan_id"], ["__count"]))
        for plan in self:
            plan.request_count = counts.get(plan, 0)

    # ------------------------------------------------------------------ constraints
    @api.constrains("metric", "interval")
    def _check_interval(self):
        for plan in self:
            if plan.metric == "sessions" and plan.interval != int(plan.interval):
                raise ValidationError(self.env._(
                    "A plan counted in sessions needs a whole number of sessions (%(plan)s: %(interval)s).",
                    plan=plan.name, interval=_number(plan.interval)))

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        # A new plan counts from the equipment's usage now: "every 200 h" from today, not from the
        # machine's first session (set "Counted from" to start elsewhere).
        missing = [vals for vals in vals_list if "baseline" not in vals and vals.get("equipment_id")]
        if missing:
            equipment = self.env["maintenance.equipment"].browse({vals["equipment_id"] for vals in missing})
            usage = equipment._workshop_usage()
            for vals in missing:
                vals["baseline"] = usage.get(vals["equipment_id"], {}).get(vals.get("metric") or "hours", 0.0)
        return super().create(vals_list)

    # ------------------------------------------------------------------ actions
    def action_check_now(self):
        """Create the requests that are due now (the cron's check, for these plans)."""
        # rights: rights.require raises AccessError unless the caller is a workshop manager or a
        # maintenance manager; check_access then applies the plans' record rules (company).
        if not (self.env.su or self.env.user.has_group(EQUIPMENT_MANAGER)):
            rights.require(self.env, rights.MANAGER, self.env._("Checking maintenance plans"))
        self.check_access("write")
        created = self.sudo()._trigger_due()
        message = (self.env._("%s maintenance request(s) created.", len(created)) if created
                   else self.env._("Nothing is due: no request created."))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": message, "type": "success" if created else "info", "sticky": False}}

    def action_view_requests(self):
        """The maintenance requests this plan created."""
        self.ensure_one()
        # rights: check_access raises AccessError unless the caller may read this plan (ACL and
        # company rule); the list then applies the requests' own rules.
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("maintenance.hr_equipment_request_action")
        action["domain"] = [("workshop_plan_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ business
    @api.model
    def _cron_check_usage(self):
        """Cron (safety net of the fold's check): every active plan, and the machines' blocking state."""
        created = self.sudo().search([])._trigger_due()
        self.env["maintenance.equipment"].sudo()._workshop_blocked()._workshop_refresh_blocking()
        return created

    def _trigger_due(self):
        """Create one request for each of these plans whose next due value the usage has reached;
        returns the requests created. Run as superuser (the fold, the cron, a checked action)."""
        plans = self.filtered(lambda p: p.active and p.equipment_id.active)
        if not plans:
            return self.env["maintenance.request"]
        usage = plans.equipment_id._workshop_usage()
        created = self.env["maintenance.request"]
        for plan in plans:
            figures = usage.get(plan.equipment_id.id, {"hours": 0.0, "sessions": 0})
            if figures[plan.metric] < plan.next_due:
                continue  # the common case, decided without a lock
            try:
                with self.env.cr.savepoint():
                    if not plan._lock_for_trigger():
                        continue
                    crossed = int((figures[plan.metric] - plan.baseline) // plan.interval)
                    if crossed < 1:
                        continue  # another transaction triggered it before our lock (its baseline moved)
                    created |= plan._create_request(figures, plan.baseline + crossed * plan.interval, crossed - 1)
            except (UserError, ValidationError) as exc:
                # A setting makes the request impossible (e.g. a team of another company): the plan
                # stays due, so each check says so until it is fixed.
                _logger.warning("Maintenance plan %s (%s) is due but its request cannot be created: %s",
                                plan.id, plan.name, exc)
        return created

    def _lock_for_trigger(self):
        """Lock this plan's row until the transaction ends and read it again; False when another
        transaction holds it or changed it since this one began: that one is triggering the plan."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                # Fails at once when the row is locked, or (REPEATABLE READ) was updated by a
                # transaction that committed after this one's snapshot.
                self.env.cr.execute(SQL(
                    "SELECT id FROM workshop_maintenance_plan WHERE id = %s FOR NO KEY UPDATE NOWAIT", self.id),
                    log_exceptions=False)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info("Maintenance plan %s is being checked by another transaction (%s): left to it",
                         self.id, type(exc).__name__)
            return False
        self.invalidate_recordset(["baseline", "interval", "next_due", "active"])
        return self.active

    def _create_request(self, figures, due, skipped):
        """The preventive request of the crossing of ``due`` (``skipped`` more intervals crossed at
        once), with the usage ``figures`` at creation; moves the baseline to ``due``."""
        self.ensure_one()
        equipment = self.equipment_id
        unit = self._unit_label()
        due_text = "%s %s" % (_number(due), unit)
        title = (self.request_name or "").strip()
        title = title.replace("{due}", due_text) if title else "%s (%s)" % (self.name, due_text)
        lines = [
            self.env._("Due at %(due)s (plan '%(plan)s': every %(interval)s %(unit)s).",
                       due=due_text, plan=self.name, interval=_number(self.interval), unit=unit),
            self.env._("Usage when this request was created: %(hours)s working hours, %(sessions)s sessions.",
                       hours=_number(figures["hours"]), sessions=figures["sessions"]),
        ]
        if skipped:
            lines.append(self.env._(
                "%(count)s more interval(s) were crossed at once and got no request of their own "
                "(last one due at %(due)s).", count=skipped, due=due_text))
        if self.blocking:
            lines.append(self.env._("Blocks the machine until done: sessions meanwhile are flagged."))
        company = (self.company_id or equipment.workshop_device_ids[:1].company_id or self.env.company)
        vals = {
            "name": title,
            "equipment_id": equipment.id,
            "company_id": company.id,
            "maintenance_type": "preventive",
            "description": Markup("").join(Markup("<p>%s</p>") % line for line in lines),
            "workshop_plan_id": self.id,
            "workshop_due_value": due,
            "workshop_skipped_count": skipped,
            "workshop_usage_hours": figures["hours"],
            "workshop_usage_sessions": figures["sessions"],
            "workshop_blocking": self.blocking,
        }
        team = self.maintenance_team_id or equipment.maintenance_team_id
        if team:
            vals["maintenance_team_id"] = team.id
        if self.user_id:
            vals["user_id"] = self.user_id.id
        request = self.env["maintenance.request"].sudo().with_company(company).create(vals)
        self.write({"baseline": due, "last_request_id": request.id})
        _logger.info("Maintenance plan %s of equipment %s: request %s at %s (%s skipped)",
                     self.id, equipment.id, request.id, due_text, skipped)
        return request

    def _unit_label(self):
        return self.env._("h") if self.metric == "hours" else self.env._("sessions")
