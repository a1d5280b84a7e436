import logging
import re
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import config_push, rights, worker_client
from ..tools.exceptions import ConfigInvalid, WorkerCallError
from .bigint_field import BigInteger

_logger = logging.getLogger(__name__)

_WORKER_UID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_HTTP_URL_RE = re.compile(r"^https?://[!-~]+$")

# Fields that change what the worker receives or where it is sent.
CONFIG_FIELDS = {"worker_uid", "broker_id", "url", "close_sessions_on_shutdown", "active"}


def _validators():
    # Imported lazily: schema/generated.py is produced by shared/codegen (another part of the build).
    from ..schema import generated

    return generated


class WorkshopWorker(models.Model):
    """One worker installation: its URL and token, the config it should run and its health."""

    _name = "workshop.worker"
    _description = "Workshop IoT Worker"
    _order = "name, id"
    # The worker's broker is of its company (or shared: a broker without company).
    _check_company_auto = True
    _sql_constraints = [
        ("worker_uid_unique", "UNIQUE(worker_uid)", "Another worker already uses this worker uid."),
    ]

    # ------------------------------------------------------------------ fields
    name = fields.Char(required=True, help="Label shown to admins, e.g. 'Workshop PC'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", string="Company", required=True, index=True, default=lambda self: self.env.company,
        help="A worker belongs to one company: it reads that company's machines only, and its integration "
        "user is a user of that company.")
    worker_uid = fields.Char(
        string="Worker UID",
        required=True,
        copy=False,
        help="Stable id of the installation (worker settings 'worker_uid'). Letters, digits, _ . : -",
    )
    url = fields.Char(
        string="Worker URL",
        help="Base URL of the worker's HTTP server, e.g. http://127.0.0.1:8787. Odoo calls <url>/rpc "
        "for config.apply and health.get. Filled from worker.hello when empty. Only administrators "
        "may change it once the worker has a token or a broker with a password or TLS key.",
    )
    token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Bearer token Odoo sends to the worker (worker settings http.token). Write-only in the UI.",
    )
    token_set = fields.Boolean(
        string="Token stored", compute="_compute_token_set", compute_sudo=True, help="A worker token is stored."
    )
    new_token = fields.Char(
        string="Set token",
        compute="_compute_new_token",
        inverse="_inverse_new_token",
        groups="base.group_system",
        help="Type a token to store it. It is never displayed again.",
    )
    broker_id = fields.Many2one(
        "workshop.broker", string="Broker", ondelete="restrict", check_company=True,
        help="Broker this worker connects to. Empty: the worker's embedded broker.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Integration user",
        ondelete="restrict",
        help="User whose API key the worker uses. Only this user may report for this worker uid.",
    )
    close_sessions_on_shutdown = fields.Boolean(
        string="End sessions when stopped",
        help="On SIGTERM the worker closes open sessions with reason 'shutdown' instead of resuming them.",
    )
    device_ids = fields.One2many("workshop.device", "worker_id", string="Devices")
    device_count = fields.Integer(string="Machines", compute="_compute_device_count")

    status = fields.Selection(
        [("online", "Online"), ("offline", "Offline"), ("unknown", "Unknown")],
        default="unknown",
        required=True,
        readonly=True,
        help="Online while the worker reports or answers health checks.",
    )
    last_seen_at = fields.Datetime(
        string="Last seen",
        readonly=True,
        help="Last hello, status report, event batch or health answer.",
    )
    last_hello_at = fields.Datetime(string="Last hello", readonly=True)
    started_at = fields.Datetime(
        string="Process started",
        readonly=True,
        help="Start time of the worker process (from worker.hello).",
    )
    software_version = fields.Char(string="Worker version", readonly=True)
    hostname = fields.Char(readonly=True)

    # int8: versions and counters up to 2^53 - 1 are valid on the wire (worker.hello/status).
    config_version = BigInteger(
        string="Config version", default=1, readonly=True, copy=False,
        help="Version of the config Odoo holds for this worker; bumped on every relevant change.",
    )
    applied_config_version = BigInteger(
        string="Applied version", readonly=True, copy=False, help="Config version the worker last reported as applied."
    )
    config_in_sync = fields.Boolean(string="Config applied", compute="_compute_config_in_sync")
    push_state = fields.Selection(
        [("none", "Nothing to push"), ("pending", "Pending"), ("ok", "Pushed"),
         ("retry", "Retrying"), ("failed", "Failed")],
        string="Config push", default="none", required=True, readonly=True, copy=False,
        help="Outcome of the last config push. 'Retrying' pushes are retried by a cron with backoff.",
    )
    push_attempts = fields.Integer(
        string="Failed pushes",
        readonly=True,
        copy=False,
        help="Failed attempts since the last success.",
    )
    push_next_at = fields.Datetime(
        string="Next push",
        readonly=True,
        copy=False,
        help="When the cron retries the push.",
    )
    push_last_at = fields.Datetime(string="Last push", readonly=True, copy=False)
    push_error = fields.Text(string="Push problem", readonly=True, copy=False, help="What went wrong and what to do.")
    push_error_detail = fields.Text(
        string="Push problem (technical)", readonly=True, copy=False,
        help="Technical cause of the push problem (also in the server log).")

    health_status = fields.Selection([("ok", "OK"), ("degraded", "Degraded")], string="Health", readonly=True)
    broker_connected = fields.Boolean(string="Broker connected", readonly=True)
    outbox_depth = BigInteger(string="Outbox", readonly=True, help="Events waiting in the worker's outbox.")
    oldest_pending_s = fields.Float(string="Oldest pending event", readonly=True,
                                    help="Age of the oldest event in the outbox not yet delivered to Odoo.")
    dead_letters = BigInteger(string="Dead letters", readonly=True, help="Events the worker gave up on.")
    uptime_s = fields.Float(string="Uptime", readonly=True, help="Time since the worker process started.")
    health_checked_at = fields.Datetime(string="Last health check", readonly=True)
    health_error = fields.Text(string="Health problem", readonly=True, help="What went wrong and what to do.")
    health_error_detail = fields.Text(
        string="Health problem (technical)", readonly=True,
        help="Technical cause of the health problem (also in the server log).")

    # ------------------------------------------------------------------ computes
    def _compute_token_set(self):
        for worker in self:
            worker.token_set = bool(worker.token)

    def _compute_new_token(self):
        for worker in self:
            worker.new_token = False

    def _inverse_new_token(self):
        for worker in self.filtered("new_token"):
            if len(worker.new_token) < 24:
                raise ValidationError(_("A worker token has at least 24 characters."))
            worker.token = worker.new_token
        # The written value would stay in the cache and go back to the form, which would then show
        # a masked token in "Set token" right after saving: forget it.
        self.invalidate_recordset(["new_token"])

    @api.depends("device_ids")
    def _compute_device_count(self):
        for worker in self:
            worker.device_count = len(worker.device_ids)

    @api.depends("config_version", "applied_config_version")
    def _compute_config_in_sync(self):
        for worker in self:
            worker.config_in_sync = worker.applied_config_version >= worker.config_version

    # ------------------------------------------------------------------ constraints
    @api.constrains("worker_uid")
    def _check_worker_uid(self):
        for worker in self:
            if not _WORKER_UID_RE.match(worker.worker_uid or ""):
                raise ValidationError(_("Worker uid: letters, digits, _ . : - (1-64 characters)."))

    @api.constrains("url")
    def _check_url(self):
        for worker in self:
            if worker.url and (not _HTTP_URL_RE.match(worker.url) or len(worker.url) > 512):
                raise ValidationError(_("Worker URL must look like http://host:port."))

    @api.constrains("company_id")
    def _check_company_of_machines(self):
        """A worker moves to another company only without machines of its old one: its machines'
        own check (``check_company`` on ``workshop.device.worker_id``) runs only when a machine
        is saved."""
        Device = self.env["workshop.device"].sudo().with_context(active_test=False)
        for worker in self:
            others = Device.search([("worker_id", "=", worker.id), ("company_id", "!=", worker.company_id.id)])
            if others:
                raise ValidationError(_(
                    "Worker %(worker)s cannot move to %(company)s: its machines %(machines)s belong to another "
                    "company. Assign them to another worker first.", worker=worker.name,
                    company=worker.company_id.name, machines=", ".join(others.mapped("name"))))

    # ------------------------------------------------------------------ CRUD
    def write(self, vals):
        res = super().write(vals)
        if CONFIG_FIELDS.intersection(vals) and not self.env.context.get("workshop_iot_no_push"):
            # workshop_iot_no_push: worker.hello fills the URL and answers with the config itself.
            self._config_changed()
        return res

    # ------------------------------------------------------------------ actions
    def action_push_config(self):
        """Button: push now, inside this request (bounded by the worker timeout), and say how it went.
        Managers only (AccessError otherwise): it calls the worker with the admin-only token (sudo)."""
        self.ensure_one()
        rights.require(self.env, rights.MANAGER, _("Pushing a worker's config"))
        if not self.url:
            raise UserError(_("Worker %(name)s has no URL; it will pull its config on worker.hello.", name=self.name))
        failed = self._push_config()
        if failed:
            return self._notify(_("Config push failed"), self.push_error, "danger")
        return self._notify(
            _("Config pushed"),
            _(
                "Worker %(name)s applied config version %(version)s.",
                name=self.name,
                version=self.applied_config_version,
            ),
            "success",
        )

    def action_check_health(self):
        """Button "Check now": call health.get and show the answer. Managers only (AccessError
        otherwise): it calls the worker with the admin-only token and writes the answer (sudo)."""
        self.ensure_one()
        rights.require(self.env, rights.MANAGER, _("Checking a worker's health"))
        if not self._check_health():
            return self._notify(_("Worker unreachable"), self.health_error, "danger")
        return self._notify(
            _("Worker answered"),
            _("Status %(status)s, outbox %(depth)s event(s).", status=self.health_status, depth=self.outbox_depth),
            "success",
        )

    def action_view_devices(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("workshop_iot.workshop_device_action")
        action["domain"] = [("worker_id", "=", self.id)]
        action["context"] = {"default_worker_id": self.id}
        return action

    def _notify(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            # Never sticky: the message stays on the form (push/health error), and sticky toasts of repeated
            # clicks piled up over the form.
            "params": {"title": title, "message": message or "", "type": kind, "sticky": False,
                       "next": {"type": "ir.actions.act_window_close"}},
        }

    # ------------------------------------------------------------------ config
    def _config_changed(self):
        """Bump the config version of these workers and queue a push for after the commit."""
        workers = self.filtered("active")
        # Without a URL, or before its first hello, there is nothing to push to: the worker pulls
        # the config on worker.hello. (A worker just created in "Connect a worker" is not running
        # yet; pushing to it would only fail and log a warning per machine the admin adds.)
        pushable = workers.filtered(lambda w: w.url and w.last_hello_at)
        for worker in workers:
            worker.sudo().write({"config_version": worker.config_version + 1,
                                 "push_state": "pending" if worker in pushable else "none"})
        config_push.schedule(self.env, pushable.ids)

    def _build_config(self):
        """The WorkerConfig document (shared/src/contracts/worker-config.ts) for this worker."""
        self.ensure_one()
        devices = self.env["workshop.device"].sudo().search([("worker_id", "=", self.id)], order="device_id")
        config = {
            "version": self.config_version,
            "worker_uid": self.worker_uid,
            "broker": self.broker_id._to_config(),
            "close_sessions_on_shutdown": self.close_sessions_on_shutdown,
            "devices": [device._to_config() for device in devices],
        }
        readers = self.env["workshop.badge.reader"].sudo().search([("worker_id", "=", self.id)], order="reader_id")
        # Only when there are readers: a worker older than badge readers refuses unknown keys.
        if readers:
            config["badge_readers"] = [reader._to_config() for reader in readers]
        return config

    def _build_valid_config(self):
        """``_build_config()`` checked against the generated validator; raises ``ConfigInvalid``."""
        config = self._build_config()
        errors = _validators().validate_worker_config(config)
        if errors:
            raise ConfigInvalid(
                "; ".join("%s: %s" % (e["path"], e["message"]) for e in errors[:10]), data={"errors": errors}
            )
        return config

    def _push_config(self):
        """Push each worker's config (config.apply) and record the outcome. Returns the failed workers."""
        failed = self.browse()
        for worker in self.sudo():
            now = fields.Datetime.now()
            try:
                config = worker._build_valid_config()
                result = worker_client.call(worker.url, worker.token, "config.apply", {"config": config})
                errors = _validators().validate_config_apply_result(result)
                if errors:
                    raise WorkerCallError("Unexpected config.apply result: %s" % errors[0]["message"])
            except WorkerCallError as exc:
                failed |= worker
                worker._record_push_failure(exc, now)
                continue
            worker.write({
                "push_state": "ok", "push_attempts": 0, "push_next_at": False, "push_last_at": now,
                "push_error": False, "push_error_detail": False,
                "applied_config_version": max(worker.applied_config_version, result["version"]),
                "status": "online", "last_seen_at": now,
            })
        return failed

    def _record_push_failure(self, exc, now):
        """Write the failure on the worker; retryable ones get a cron retry after a backoff delay."""
        attempts = self.push_attempts + 1
        _logger.warning("Config push to worker %s failed (attempt %s): %s", self.worker_uid, attempts, exc.detail)
        if exc.retryable:
            state, next_at = "retry", now + timedelta(seconds=config_push.backoff_s(attempts))
        else:
            state, next_at = "failed", False
        self.write({
            "push_state": state, "push_attempts": attempts, "push_next_at": next_at,
            "push_last_at": now, "push_error": exc.message, "push_error_detail": exc.detail,
        })

    # ------------------------------------------------------------------ crons
    @api.model
    def _cron_retry_config_push(self):
        """Cron: retry pushes whose backoff delay has passed."""
        due = self.search([
            ("push_state", "=", "retry"), ("url", "!=", False),
            "|", ("push_next_at", "=", False), ("push_next_at", "<=", fields.Datetime.now()),
        ])
        due._push_config()

    # ------------------------------------------------------------------ helpers for the RPC handlers
    def _touch(self, now, **vals):
        """Mark the worker seen (from its own calls). Skips the row write when nothing changed within
        10 s, so frequent batches do not serialize on the worker row, and when the health-check cron
        is writing the row at that moment (``_write_unless_concurrent``): the call goes on. Returns
        True when written, False when skipped for a concurrent writer, None when not needed."""
        self.ensure_one()
        recent = self.last_seen_at and (now - self.last_seen_at).total_seconds() < 10
        if recent and self.status == "online" and all(self[k] == v for k, v in vals.items()):
            return None
        return self._write_unless_concurrent({"status": "online", "last_seen_at": now, **vals}, "seen/health report")
