"""Retention: purge processed events older than Settings "Keep events" days, unless "Keep events
forever" is ticked (a separate flag: Odoo stores a 0 setting as no parameter, i.e. the default).

Kept whatever their age: events not processed (pending, error: still to be applied or looked at),
and events of sessions not yet billed or waiting for review (their events are the evidence a manager
reads before billing). Deleted in batches, each committed by the cron progress API, so a first run
on years of events neither holds one huge transaction nor blocks the fold for long.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

PARAM_RETENTION_DAYS = "workshop_iot.event_retention_days"
PARAM_KEEP_FOREVER = "workshop_iot.event_keep_forever"
DEFAULT_RETENTION_DAYS = 400
BATCH = 5000


class WorkshopEvent(models.Model):
    _inherit = "workshop.event"

    @api.model
    def _retention_days(self):
        """Days processed events are kept; 0 when they are kept forever."""
        icp = self.env["ir.config_parameter"].sudo()
        if icp.get_param(PARAM_KEEP_FOREVER):
            return 0
        param = (icp.get_param(PARAM_RETENTION_DAYS) or "").strip()
        return max(int(param), 1) if param.isdigit() else DEFAULT_RETENTION_DAYS

    @api.model
    def _purge_batch(self, now=None, limit=BATCH):
        """Delete up to ``limit`` purgeable events; returns how many were deleted."""
        days = self._retention_days()
        if not days:
            return 0
        before = (now or fields.Datetime.now()) - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """DELETE FROM workshop_event WHERE id IN (
                   SELECT e.id FROM workshop_event e
                LEFT JOIN workshop_session s ON s.id = e.session_id
                    WHERE e.state = 'processed' AND e.occurred_at < %(before)s
                      AND (s.id IS NULL OR (s.billing_state = 'billed' AND NOT COALESCE(s.review_pending, FALSE)))
                    LIMIT %(limit)s)""", before=before, limit=limit))
        deleted = self.env.cr.rowcount
        if deleted:
            self.invalidate_model()
            self.env["workshop.session"].invalidate_model(["event_ids"])
        return deleted

    @api.model
    def _cron_purge_events(self):
        """Cron: one batch per call; Odoo commits and calls again while some remain."""
        deleted = self._purge_batch()
        self.env["ir.cron"]._notify_progress(done=deleted, remaining=1 if deleted == BATCH else 0)
        return deleted
