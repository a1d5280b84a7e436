from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    """Settings > Workshop IoT > Invoicing: the current company's invoicing settings."""

    _inherit = "res.config.settings"

    workshop_invoice_grouping = fields.Selection(
        related="company_id.workshop_invoice_grouping", readonly=False)
    workshop_invoice_schedule = fields.Selection(
        related="company_id.workshop_invoice_schedule", readonly=False)
    workshop_invoice_cutoff = fields.Datetime(related="company_id.workshop_invoice_cutoff")
