"""Handlers of the worker -> Odoo JSON-RPC methods (``worker.hello``, ``worker.status``,
``events.ingest``, ``discovery.report``). The controller checks the caller's group and validates params against the
shared schema before calling them, with ``sudo()`` at that single boundary."""

import logging

from odoo import api, fields, models
from odoo.http import request
from odoo.tools import SQL

from ..tools import rpc_errors as E
from ..tools import rpc_timings
from ..tools.exceptions import ConfigInvalid, RpcException
from ..tools.timeutil import to_wire_ts
from ..tools.wire_checks import HELLO_TIMESTAMPS, STATUS_TIMESTAMPS, parse_times

_logger = logging.getLogger(__name__)

MAX_WIRE_INT = 9_007_199_254_740_991  # Number.MAX_SAFE_INTEGER, the schema's bound of versions


class WorkshopWorker(models.Model):
    _inherit = "workshop.worker"

    @api.model
    def _rpc_worker_for(self, worker_uid):
        """The worker record of ``worker_uid`` for the calling integration user.

        A key's user reports only for the workers bound to it (``user_id``). A record bound to
        nobody is never claimed by a key: an administrator binds it ('Generate Odoo API key' on
        the worker form). An unknown uid is registered, bound to the caller, only while the caller
        has no worker at all, archived ones included: one self-registered worker per integration
        user, further ones are created by an administrator.
        """
        user = self.env.user
        worker = self.with_context(active_test=False).search([("worker_uid", "=", worker_uid)], limit=1)
        if worker:
            if not worker.active or worker.user_id != user:
                raise RpcException(E.WORKER_FORBIDDEN, worker_uid=worker_uid)
            return worker
        # Two first calls of one user at once: each updates the user's row (a no-op), so the second
        # waits for the first and then fails to serialize (REPEATABLE READ; a mere row lock would
        # not, and its snapshot would miss the first one's worker). Odoo retries that request,
        # which then finds the worker and refuses a second registration.
        self.env.cr.execute(SQL("UPDATE res_users SET write_date = write_date WHERE id = %s", user.id))
        if self.with_context(active_test=False).search_count([("user_id", "=", user.id)], limit=1):
            raise RpcException(E.WORKER_REGISTRATION_REFUSED, worker_uid=worker_uid)
        _logger.info("Registering worker %s for user %s", worker_uid, user.login)
        return self.with_context(workshop_iot_no_push=True).create(
            {"name": worker_uid, "worker_uid": worker_uid, "user_id": user.id})

    @api.model
    def _rpc_times(self, params, pointers, method):
        """``{path: datetime}`` of the timestamps of ``params``; INVALID_PARAMS if one is not a date."""
        parsed, errors = parse_times(params, pointers)
        if errors:
            raise RpcException(E.INVALID_PARAMS, data={"errors": errors}, method=method)
        return parsed

    @api.model
    def _rpc_hello(self, params):
        """worker.hello: record who the worker is; return the config when Odoo's is newer."""
        started_at = self._rpc_times(params, HELLO_TIMESTAMPS, "worker.hello")["/started_at"]
        worker = self._rpc_worker_for(params["worker_uid"])
        now = fields.Datetime.now()
        reported = params["config_version"]
        vals = {
            "status": "online", "last_seen_at": now, "last_hello_at": now,
            "software_version": params["software_version"],
            "hostname": params.get("hostname") or False,
            "started_at": started_at,
            "applied_config_version": reported,
        }
        if reported == worker.config_version:
            vals.update(worker._push_settled_vals(reported))
        if not worker.url and params.get("http_url"):
            vals["url"] = params["http_url"]
        if reported > worker.config_version:
            # The worker runs a newer version than Odoo knows (e.g. database restored from a backup):
            # jump past it, or the worker would reject Odoo's config as older. Stored as int8 (a
            # version up to 2^53 - 1 is valid on the wire), answered within the schema's bound.
            vals["config_version"] = min(reported + 1, MAX_WIRE_INT)
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

    def _push_settled_vals(self, applied_version):
        """Fields that end a pending/failing push once the worker reports it runs Odoo's current
        config (pulled on worker.hello, or applied by a push whose answer was lost): without them the
        worker showed "Retrying" with the old error although it was in sync. Empty when nothing to
        settle, so ``_touch`` can still skip an unchanged row."""
        self.ensure_one()
        if applied_version < self.config_version:
            return {}
        if self.push_state in ("ok", "none") and not (self.push_attempts or self.push_next_at or self.push_error):
            return {}
        return {"push_state": "ok", "push_attempts": 0, "push_next_at": False,
                "push_error": False, "push_error_detail": False}

    @api.model
    def _rpc_status(self, params):
        """worker.status: health summary and live machine states for the dashboard."""
        self._rpc_times(params, STATUS_TIMESTAMPS, "worker.status")
        worker = self._rpc_worker_for(params["worker_uid"])
        health = params["health"]
        applied = max(worker.applied_config_version, params["config_version"])
        worker._touch(
            fields.Datetime.now(),
            applied_config_version=applied,
            **worker._push_settled_vals(applied),
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
        rpc_timings.lap(request, "worker")
        return self.env["workshop.event"]._ingest(worker, params["events"])

    @api.model
    def _rpc_discovery_report(self, params):
        """discovery.report: upsert the meters this worker heard announcing themselves. Only rows of
        the caller's own worker are read or written; machines and the dashboard are not touched."""
        worker = self._rpc_worker_for(params["worker_uid"])
        ignored = self.env["workshop.discovered.meter"]._report(worker, params["meters"])
        return {"ok": True, "ignored": ignored}
