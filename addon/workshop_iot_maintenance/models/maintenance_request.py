from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    workshop_plan_id = fields.Many2one(
        "workshop.maintenance.plan", string="Plan by usage", readonly=True, index="btree_not_null",
        ondelete="set null", help="The maintenance plan by usage that created this request.")
    workshop_due_value = fields.Float(
        string="Due at", readonly=True, help="The plan's due value this request is for (working hours or sessions).")
    workshop_skipped_count = fields.Integer(
        string="Intervals skipped", readonly=True,
        help="Further intervals of the plan crossed at once, which got no request of their own.")
    workshop_usage_hours = fields.Float(
        string="Working hours at request", readonly=True,
        help="The equipment's working hours (machines' working time, standby not counted) "
             "when the request was created.")
    workshop_usage_sessions = fields.Integer(
        string="Sessions at request", readonly=True,
        help="The equipment's finished sessions when the request was created.")
    workshop_blocking = fields.Boolean(
        string="Blocks the machine",
        help="While this request is open (not done, not archived), sessions on the equipment's machines "
             "are flagged for review and the machines show an alert.")
    workshop_blocking_since = fields.Datetime(
        string="Blocking since", readonly=True,
        help="When the request began blocking the machines: sessions running then or ending later are flagged.")

    @api.model_create_multi
    def create(self, vals_list):
        requests = super().create(vals_list)
        requests._workshop_sync_blocking()
        return requests

    def write(self, vals):
        before = self.sudo().equipment_id if "equipment_id" in vals else None
        res = super().write(vals)
        if {"workshop_blocking", "stage_id", "archive", "equipment_id"}.intersection(vals):
            self._workshop_sync_blocking(before)
        return res

    def _workshop_is_blocking(self):
        self.ensure_one()
        return self.workshop_blocking and not self.stage_id.done and not self.archive

    def _workshop_sync_blocking(self, other_equipment=None):
        """Keep "Blocking since" on open blocking requests (now when they begin blocking, cleared when
        they stop) and refresh the alerts and flags of the machines concerned (those of
        ``other_equipment`` too: the equipment a request was moved from)."""
        now = fields.Datetime.now()
        for request in self.sudo():
            blocking = request._workshop_is_blocking()
            if blocking and not request.workshop_blocking_since:
                request.workshop_blocking_since = now
            elif not blocking and request.workshop_blocking_since:
                request.workshop_blocking_since = False
        equipment = self.sudo().equipment_id | (other_equipment or self.env["maintenance.equipment"])
        if equipment.workshop_device_ids:
            equipment._workshop_refresh_blocking()
