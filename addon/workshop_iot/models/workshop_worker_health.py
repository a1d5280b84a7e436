"""Worker health: ask the worker (``health.get``), store its answer, and tell online from offline
by silence. Kept apart from ``workshop_worker.py`` (fields, config and push); the row-write guard
here is shared with the RPC handlers' ``_touch``."""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools import worker_client
from ..tools.exceptions import WorkerCallError
from .workshop_worker import _validators

_logger = logging.getLogger(__name__)

# A worker not heard of (hello, status, events or a health answer) for this long is offline.
DEFAULT_STALE_AFTER_S = 300
# Below this a worker between two status reports (every 30 s by default) would flap offline.
MIN_STALE_AFTER_S = 30


class WorkshopWorker(models.Model):
    _inherit = "workshop.worker"

    # ------------------------------------------------------------------ health
    def _check_health(self):
        """Call health.get (bounded timeout) and store the answer; returns True when it answered."""
        self.ensure_one()
        vals = self._health_vals(fields.Datetime.now())
        self.sudo().write(vals)
        return vals["health_error"] is False

    def _health_vals(self, now):
        """Ask the worker for its health (bounded timeout); the fields to store, written by the caller.
        Writes nothing itself, so no row lock is held while the call waits."""
        self.ensure_one()
        worker = self.sudo()
        try:
            if not worker.url:
                raise WorkerCallError("No worker URL: the worker fills it on its first hello, or type it here.")
            health = worker_client.call(worker.url, worker.token, "health.get", {})
            errors = _validators().validate_health(health)
            if errors:
                raise WorkerCallError(
                    "Unexpected health.get result at %s: %s" % (errors[0]["path"], errors[0]["message"]),
                )
        except WorkerCallError as exc:
            _logger.warning("Health check of worker %s failed: %s", worker.worker_uid, exc.detail)
            return {"health_checked_at": now, "health_error": exc.message, "health_error_detail": exc.detail,
                    **worker._status_from_silence(now)}
        return {
            "status": "online", "last_seen_at": now, "health_checked_at": now,
            "health_error": False, "health_error_detail": False,
            "health_status": health["status"],
            "broker_connected": health["broker"]["connected"],
            "outbox_depth": health["outbox"]["depth"],
            "oldest_pending_s": health["outbox"]["oldest_pending_s"] or 0.0,
            "dead_letters": health["outbox"]["dead_letters"],
            "uptime_s": health["uptime_s"],
            "software_version": health["software_version"],
            "applied_config_version": max(worker.applied_config_version, health["config"]["version"]),
            **worker._push_settled_vals(health["config"]["version"]),
        }

    def _write_unless_concurrent(self, vals, what):
        """Write ``vals`` on this worker's row unless another transaction is writing it or wrote it
        since this one began; then skip (logged) and return False.

        Two kinds of writers share the row: the worker's own calls (``events.ingest``,
        ``worker.status``: ``_touch``) and the health-check cron. In REPEATABLE READ the second
        writer fails; for a request Odoo then retries the whole call after a random sleep of up to
        ~2 s, while the worker's one-call-at-a-time link and so its event delivery wait (seen in the
        end-to-end bench: p99 1.1-1.3 s in about one run of ten), and the cron fails with a
        traceback and checks no further worker. Both writers record the same news (the worker is
        online, with its health), so the one that comes second can skip: the row is locked NOWAIT in
        a savepoint first, and the next report or cron run writes again."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                # Fails at once when the row is locked, or (REPEATABLE READ) was updated by a
                # transaction that committed after this one's snapshot.
                self.env.cr.execute(
                    SQL("SELECT 1 FROM workshop_worker WHERE id = %s FOR NO KEY UPDATE NOWAIT", self.id),
                    log_exceptions=False,
                )
                self.sudo().write(vals)
            return True
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info("Worker %s: %s skipped, its row is being written concurrently (%s)",
                         self.worker_uid, what, type(exc).__name__)
            return False

    def _status_from_silence(self, now):
        """``status`` when the worker cannot be asked: offline once silent for the stale delay."""
        stale = now - timedelta(seconds=self._stale_after_s())
        if self.last_seen_at and self.last_seen_at >= stale:
            return {"status": "online"}
        return {"status": "offline" if self.last_seen_at or self.url else "unknown"}

    @api.model
    def _stale_after_s(self):
        param = self.env["ir.config_parameter"].sudo().get_param("workshop_iot.worker_stale_after_s")
        try:
            return max(int(param), MIN_STALE_AFTER_S) if param else DEFAULT_STALE_AFTER_S
        except ValueError:
            _logger.warning(
                "workshop_iot.worker_stale_after_s=%r is not an integer; using %s",
                param,
                DEFAULT_STALE_AFTER_S,
            )
            return DEFAULT_STALE_AFTER_S

    # ------------------------------------------------------------------ crons
    @api.model
    def _cron_check_health(self):
        """Cron: ask every active worker with a URL for its health; others go by their last report.
        Returns the workers whose row was left to a concurrent writer (``_write_unless_concurrent``)."""
        now = fields.Datetime.now()
        # Every call first, then the writes: no worker row stays locked while a call waits.
        results = [
            (worker, worker._health_vals(now) if worker.url else worker._status_from_silence(now))
            for worker in self.search([])
        ]
        skipped = self.browse()
        for worker, vals in results:
            if not worker._write_unless_concurrent(vals, "health check"):
                skipped |= worker
        return skipped
