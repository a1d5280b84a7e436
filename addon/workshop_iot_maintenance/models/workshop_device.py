from odoo import fields, models

from .maintenance_equipment import ALERT_BLOCKED, ALERT_USED


class WorkshopDevice(models.Model):
    _inherit = "workshop.device"

    equipment_id = fields.Many2one(
        "maintenance.equipment", string="Equipment", index="btree_not_null", ondelete="set null",
        check_company=True, tracking=True,
        help="The Maintenance equipment this machine is: its sessions count as the equipment's usage "
             "(working hours, sessions) for maintenance plans by usage, and a blocking maintenance request "
             "of the equipment flags the sessions run on it.")

    def _alert_responsible(self):
        # The maintenance alerts go to the equipment's technician (else the machine's own responsible).
        if self.env.context.get("workshop_maintenance_alert") and self.equipment_id.technician_user_id:
            return self.equipment_id.technician_user_id
        return super()._alert_responsible()

    def write(self, vals):
        res = super().write(vals)
        if "equipment_id" in vals:
            # A machine linked to another equipment (or none): the alerts of the old one's blocking
            # requests close, the new one's open (``maintenance_equipment.py``).
            note = self.env._("The machine is no longer linked to that equipment.")
            self._alert_clear(ALERT_BLOCKED, note)
            self._alert_clear(ALERT_USED, note)
            self.sudo().equipment_id._workshop_refresh_blocking()
        return res
