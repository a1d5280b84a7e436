from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class WorkshopDevice(models.Model):
    """A machine's invoicing: the service product its sessions are invoiced as, and where the price
    per unit comes from (the member's pricelist, or the machine's own price per unit)."""

    _inherit = "workshop.device"

    invoice_product_id = fields.Many2one(
        "product.product", string="Invoiced as", ondelete="restrict", tracking=True,
        domain=[("type", "=", "service")],
        help="Service product of the invoice lines of this machine's sessions (its taxes and income "
             "account apply). Sessions of a machine without one are listed, not invoiced.")
    invoice_fixed_price = fields.Boolean(
        string="Fixed price per unit", tracking=True,
        help="Invoice each unit at the machine's price per unit. Unchecked: the price of the product "
             "in the member's pricelist.")

    @api.constrains("invoice_product_id")
    def _check_invoice_product(self):
        # The domain only filters the dropdown; a value written over RPC is not checked against it.
        for device in self.filtered("invoice_product_id"):
            if device.invoice_product_id.type != "service":
                raise ValidationError(_(
                    "%(machine)s: the invoiced product %(product)s must be a service.",
                    machine=device.name, product=device.invoice_product_id.display_name))
