from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.workshop_iot.tools import rights

# What a posted invoice has said about a session: these no longer change (the fold may still record
# late events' times, and flags them "changed after billing" for a credit note or a new invoice).
FROZEN_FIELDS = frozenset({
    "member_id", "billable_s", "billing_units", "billing_amount", "billing_state", "billed_at",
    "billed_by_id", "invoice_line_id",
})


class WorkshopSession(models.Model):
    """A session's link to the invoice line that bills it, and the freeze once that invoice is posted."""

    _inherit = "workshop.session"

    invoice_line_id = fields.Many2one(
        "account.move.line", string="Invoice line", readonly=True, index="btree_not_null", copy=False,
        ondelete="set null", help="The invoice line that bills this session (one line may bill several).")
    invoice_id = fields.Many2one(
        "account.move", string="Invoice", related="invoice_line_id.move_id", store=True, index="btree_not_null")
    invoice_frozen = fields.Boolean(
        string="On a posted invoice", compute="_compute_invoice_frozen",
        help="Its invoice is posted: member and billing figures can no longer change.")

    # sudo: a workshop manager need not read invoices to see that a session is frozen.
    @api.depends("invoice_line_id.parent_state")
    def _compute_invoice_frozen(self):
        for session in self:
            session.invoice_frozen = session.sudo().invoice_line_id.parent_state == "posted"

    def write(self, vals):
        if FROZEN_FIELDS.intersection(vals):
            self._check_not_frozen(_("its member and billing figures can no longer change"))
        return super().write(vals)

    def unlink(self):
        self._check_not_frozen(_("it cannot be deleted"))
        return super().unlink()

    def _check_not_frozen(self, what):
        frozen = self.sudo().filtered(lambda s: s.invoice_line_id.parent_state == "posted")
        if frozen:
            raise UserError(_(
                "%(sessions)s: on the posted invoice %(invoices)s; %(what)s. Reset the invoice to draft "
                "(or issue a credit note) first.",
                sessions=", ".join(frozen[:10].mapped("display_name")) + (" …" if len(frozen) > 10 else ""),
                invoices=", ".join(frozen.invoice_id.mapped("name")), what=what))

    def _release_from_invoice(self):
        """Back to "to bill" (invoice cancelled or line deleted), with figures recomputed under the
        machine's current policy, as an administrator's "Reset billing" does."""
        linked = self.filtered("invoice_line_id")
        if not linked:
            return
        linked.write({"invoice_line_id": False, "billing_state": "to_bill", "billed_at": False,
                      "billed_by_id": False})
        linked._update_billing()

    def action_reset_billing(self):
        # rights: administrators only, checked first (the message below names invoices).
        rights.require(self.env, rights.SYSTEM, _("Resetting the billing of sessions"))
        # An invoiced session goes back to "to bill" through its invoice (cancel it or delete the
        # line), so that the invoice and the session never disagree.
        invoiced = self.sudo().filtered("invoice_line_id")
        if invoiced:
            raise UserError(_(
                "%(sessions)s: on the invoice %(invoices)s. Cancel the invoice or delete its line instead.",
                sessions=", ".join(invoiced[:10].mapped("display_name")),
                invoices=", ".join(invoiced.invoice_id.mapped("display_name"))))
        return super().action_reset_billing()
