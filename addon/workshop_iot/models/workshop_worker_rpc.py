"""Handlers of the worker -> Odoo JSON-RPC methods (``worker.hello``, ``worker.status``,
``events.ingest``). The controller checks the caller's group and validates params against the
shared schema before calling them, with ``sudo()`` at that single boundary."""

import logging

from odoo import api, fields, models

from ..tools import rpc_errors as E
from ..tools.exceptions import ConfigInvalid, RpcException
from ..tools.timeutil import parse_wire_ts, to_wire_ts

_logger = logging.getLogger(__name__)


class WorkshopWorker(models.Model):
    _inherit = "workshop.worker"

    @api.model
    def _rpc_worker_for(self, worker_uid):
        """The worker record of ``worker_uid`` for the calling integration user.

        The first call of an unknown uid registers it, bound to the caller; afterwards only that
        user may report for it (another user's key cannot impersonate the worker).
        """
        user = self.env.user
        worker = self.with_context(active_test=False).search([("worker_uid", "=", worker_uid)], limit=1)
        if not worker:
            _logger.info("Registering worker %s for user %s", worker_uid, user.login)
            return self.with_context(workshop_iot_no_push=True).create(
                {"name": worker_uid, "worker_uid": worker_uid, "user_id": user.id})
        if not worker.active or (worker.user_id and worker.user_id != user):
            raise RpcException(E.WORKER_FORBIDDEN, worker_uid=worker_uid)
        if not worker.user_id:
            worker.user_id = user
        return worker

    @api.model
    def _rpc_hello(self, params):
        """worker.hello: record who the worker is; return the config when Odoo's is newer."""
        worker = self._rpc_worker_for(params["worker_uid"])
        now = fields.Datetime.now()
        reported = params["config_version"]
        vals = {
            "status": "online", "last_seen_at": now, "last_hello_at": now,
            "software_version": params["software_version"],
            "hostname": params.get("hostname") or False,
            "started_at": parse_wire_ts(params["started_at"]),
            "applied_config_version": reported,
        }
        if not worker.url and params.get("http_url"):
            vals["url"] = params["http_url"]
        if reported > worker.config_version:
            # The worker runs a newer version than Odoo knows (e.g. database restored from a backup):
            # jump past it, or the worker would reject Odoo's config as older.
            vals["config_version"] = reported + 1
        worker.with_context(workshop_iot_no_push=True).write(vals)
        config = None
        if reported < worker.config_version:
            try:
                config = worker._build_valid_config()
            except ConfigInvalid as exc:
                worker.write({"push_state": "failed", "push_error": exc.message})
        return {
            "worker_id": worker.id,
            "server_time": to_wire_ts(now),
            "config_version": worker.config_version,
            "config": config,
        }

    @api.model
    def _rpc_status(self, params):
        """worker.status: health summary and live machine states for the dashboard."""
        worker = self._rpc_worker_for(params["worker_uid"])
        health = params["health"]
        worker._touch(
            fields.Datetime.now(),
            applied_config_version=max(worker.applied_config_version, params["config_version"]),
            health_status=health["status"],
            broker_connected=health["broker_connected"],
            outbox_depth=health["outbox_depth"],
            oldest_pending_s=health["oldest_pending_s"] or 0.0,
            dead_letters=health["dead_letters"],
            uptime_s=health["uptime_s"],
            software_version=health["software_version"],
        )
        self.env["workshop.device"]._apply_live_states(worker, params["devices"])
        return {"ok": True, "config_version": worker.config_version}

    @api.model
    def _rpc_ingest(self, params):
        """events.ingest: per-event accepted / duplicate / rejected."""
        worker = self._rpc_worker_for(params["worker_uid"])
        worker._touch(fields.Datetime.now())
        return self.env["workshop.event"]._ingest(worker, params["events"])
