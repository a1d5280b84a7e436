import logging

from odoo import api, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class WorkshopEvent(models.Model):
    _inherit = "workshop.event"

    @api.model
    def _fold_items(self, items):
        """After the fold: the maintenance plans and blocking requests of the equipment whose
        machines these events touched (one query when no machine is linked to an equipment).
        In a savepoint: a failure here never fails the fold of the events; the cron checks again."""
        res = super()._fold_items(items)
        event_ids = [item["_event_id"] for item in items]
        if not event_ids:
            return res
        self.env.cr.execute(SQL(
            """SELECT DISTINCT d.equipment_id
                 FROM workshop_event e JOIN workshop_device d ON d.id = e.device_id
                WHERE e.id = ANY(%s) AND d.equipment_id IS NOT NULL""", event_ids))
        equipment_ids = [row[0] for row in self.env.cr.fetchall()]
        if not equipment_ids:
            return res
        try:
            with self.env.cr.savepoint():
                self.env["maintenance.equipment"].sudo().browse(equipment_ids)._workshop_usage_changed()
        except Exception as exc:
            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                _logger.info("Maintenance check after the fold postponed to the cron (%s)", type(exc).__name__)
            else:
                _logger.exception("Maintenance check after the fold failed; the cron checks again")
        return res
