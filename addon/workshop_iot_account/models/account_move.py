from odoo import _, api, fields, models


class AccountMoveLine(models.Model):
    """An invoice line made from machine sessions knows them; deleting it gives them back to "to bill"."""

    _inherit = "account.move.line"

    workshop_session_ids = fields.One2many(
        "workshop.session", "invoice_line_id", string="Machine sessions", readonly=True)

    def unlink(self):
        # Before super(): the foreign key would only empty the link (ondelete set null) and leave the
        # sessions "billed" with no invoice. A posted line cannot get here (account refuses it).
        self.sudo().workshop_session_ids._release_from_invoice()
        return super().unlink()


class AccountMove(models.Model):
    _inherit = "account.move"

    workshop_session_count = fields.Integer(
        string="Machine sessions", compute="_compute_workshop_session_count")

    @api.depends("invoice_line_ids")
    def _compute_workshop_session_count(self):
        counts = dict(self.env["workshop.session"].sudo()._read_group(
            [("invoice_line_id.move_id", "in", self.ids)], ["invoice_id"], ["__count"]))
        for move in self:
            move.workshop_session_count = counts.get(move, 0) if move.id else 0

    def write(self, vals):
        res = super().write(vals)
        # Cancelling (button_cancel writes state 'cancel') gives the sessions back to "to bill"; a
        # cancelled invoice reset to draft keeps its lines but no longer holds them.
        if vals.get("state") == "cancel":
            self.sudo().invoice_line_ids.workshop_session_ids._release_from_invoice()
        return res

    def action_view_workshop_sessions(self):
        """Smart button: the machine sessions invoiced here (read access to sessions is checked by
        the list itself; billing users have it)."""
        self.ensure_one()
        # rights: the caller must read this invoice; the list then applies the sessions' own rules.
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Machine sessions"),
            "res_model": "workshop.session",
            "view_mode": "list,form",
            "domain": [("invoice_id", "=", self.id)],
            "context": {"create": False},
        }
