"""A session that ran while a blocking maintenance request of its machine's equipment was open is
flagged (``maintenance_blocked``): one more data-quality flag of the base module's review, so the
session waits for a manager's review before it can be billed (workshop_session_review.py)."""

from odoo import api, fields, models


class WorkshopSession(models.Model):
    _inherit = "workshop.session"

    maintenance_blocked = fields.Boolean(
        string="Ran during blocking maintenance", readonly=True, index=True,
        help="The session ran while a maintenance request marked 'Blocks the machine' was open on the "
             "machine's equipment: a manager reviews it before it is billed.")
    maintenance_request_id = fields.Many2one(
        "maintenance.request", string="Blocking request", readonly=True, ondelete="set null")
    maintenance_block_reason = fields.Char(string="Maintenance flag", readonly=True)

    @api.depends("maintenance_blocked")
    def _compute_needs_review(self):
        super()._compute_needs_review()
        for session in self.filtered("maintenance_blocked"):
            session.needs_review = True

    def _review_reasons(self):
        reasons = super()._review_reasons()
        if self.maintenance_blocked:
            reasons.append(self.env._("ran during blocking maintenance"))
        return reasons

    @api.model
    def _cron_close_stale_sessions(self):
        closed = super()._cron_close_stale_sessions()
        closed.device_id.equipment_id._workshop_usage_changed()
        return closed
