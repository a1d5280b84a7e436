from odoo import fields, models

GROUPINGS = [
    ("session", "One line per session"),
    ("machine", "One line per machine and period"),
]
SCHEDULES = [
    ("off", "Off (by hand only)"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
]


class ResCompany(models.Model):
    """Invoicing settings of machine sessions, per company (shown in Settings > Workshop IoT)."""

    _inherit = "res.company"

    workshop_invoice_grouping = fields.Selection(
        GROUPINGS, string="Invoice lines", default="session", required=True,
        help="One invoice line per session, or one per machine and period (the sessions' units summed).")
    workshop_invoice_schedule = fields.Selection(
        SCHEDULES, string="Scheduled invoicing", default="off", required=True,
        help="Weekly: on Mondays, the sessions started before the week began. Monthly: on the 1st, "
             "those started before the month began. Days in the workshop timezone.")
    workshop_invoice_cutoff = fields.Datetime(
        string="Invoiced up to", readonly=True,
        help="Start of the last period the scheduled run invoiced (sessions started before it were taken).")
