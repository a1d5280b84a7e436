from odoo import fields, models


class WorkshopWorkerSecret(models.AbstractModel):
    """Dialog showing a freshly generated secret once; nothing is stored (same trick as Odoo's
    ``res.users.apikeys.show``: an abstract model whose values come from the context defaults)."""

    _name = "workshop.worker.secret"
    _description = "Workshop IoT: generated secret, shown once"

    # The field 'id' is necessary for the onchange that returns the default values.
    id = fields.Id()
    secret = fields.Char(readonly=True, help="Copy it now: it cannot be displayed again.")
    target = fields.Char(readonly=True, help="Where to paste the secret.")

    def _show(self, title, secret, target):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "name": title,
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_secret": secret, "default_target": target},
        }
