"""Guided "Connect a worker" (issue 14, finding 5): name and URL -> token and API key shown once,
with the worker's settings file and the ``docker compose`` ``.env`` lines filled in -> waiting for
the worker's first ``worker.hello``.

The secrets are never stored here. The step that mints them returns the action of step 2 with the
two values in its context; the fields that show them are computed from that context
(``depends_context``). The next step's action carries no secret, so once step 2 is left (or the
dialog closed) nothing can display them again: the token is an admin-only field of the worker, the
key is stored hashed by Odoo. Every method checks for administrators on the server; the model's
access rights are administrators only too.
"""

import json
import re
from urllib.parse import urlsplit

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import rights

TOKEN_KEY = "workshop_iot_shown_token"
API_KEY_KEY = "workshop_iot_shown_api_key"
DEFAULT_WORKER_PORT = 8787
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def worker_uid_from_name(name):
    """A worker uid (letters, digits, _ . : -, at most 64) derived from a label: 'Workshop PC' -> 'workshop-pc'."""
    slug = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")
    return slug[:64].rstrip("-") or False


class WorkshopWorkerConnect(models.TransientModel):
    _name = "workshop.worker.connect"
    _description = "Workshop IoT: connect a worker"

    step = fields.Selection(
        [("worker", "Worker"), ("secrets", "Settings to paste"), ("wait", "Waiting for the worker")],
        default="worker", required=True, readonly=True)
    worker_id = fields.Many2one("workshop.worker", string="Worker", readonly=True, ondelete="cascade")
    name = fields.Char(string="Worker name", help="Label shown to admins, e.g. 'Workshop PC'.")
    worker_uid = fields.Char(
        string="Worker UID", compute="_compute_worker_uid", store=True, readonly=False,
        help="Stable id of the installation (worker settings 'worker_uid'), derived from the name.")
    url = fields.Char(
        string="Worker URL",
        help="Where Odoo reaches the worker: http://worker:8787 with docker compose, else the "
             "worker's address and http.port, e.g. http://192.168.1.20:8787.")
    broker_id = fields.Many2one("workshop.broker", string="Broker",
                                help="MQTT broker of the meters. Empty: the worker's embedded broker.")

    token = fields.Char(string="Worker token", compute="_compute_shown", help="Shown once: copy it now.")
    api_key = fields.Char(string="Odoo API key", compute="_compute_shown", help="Shown once: copy it now.")
    settings_file = fields.Text(
        string="Worker settings file", compute="_compute_shown",
        help="Save as workshop-iot.json and start the worker with --config workshop-iot.json.")
    env_lines = fields.Text(
        string="Lines for .env", compute="_compute_shown",
        help="For docker compose: put these lines into the .env next to docker-compose.yaml.")
    last_hello_at = fields.Datetime(related="worker_id.last_hello_at", string="First hello")

    @api.depends("name")
    def _compute_worker_uid(self):
        for wizard in self:
            if not wizard.worker_id:
                wizard.worker_uid = worker_uid_from_name(wizard.name)

    @api.depends("worker_uid", "url", "step")
    @api.depends_context(TOKEN_KEY, API_KEY_KEY)
    def _compute_shown(self):
        token = self.env.context.get(TOKEN_KEY) or False
        key = self.env.context.get(API_KEY_KEY) or False
        for wizard in self:
            wizard.token, wizard.api_key = token, key
            shown = token and key and wizard.step == "secrets"
            wizard.settings_file = wizard._settings_file(token, key) if shown else False
            wizard.env_lines = wizard._env_lines(token, key) if shown else False

    # ------------------------------------------------------------------ what to paste
    def _settings_file(self, token, key):
        """The worker's settings file (shared/src/contracts/worker-settings.ts, keys of
        worker/workshop-iot.example.json): its uid, HTTP server and token, Odoo URL and key."""
        parts = urlsplit(self.url or "")
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (DEFAULT_WORKER_PORT if not parts.scheme else 443 if parts.scheme == "https" else 80)
        settings = {
            "worker_uid": self.worker_uid,
            # A worker Odoo reaches over the network listens on every interface.
            "http": {"host": "127.0.0.1" if host in LOOPBACK_HOSTS else "0.0.0.0", "port": port, "token": token},
            "odoo": {"url": self.get_base_url(), "api_key": key},
        }
        return json.dumps(settings, indent=2) + "\n"

    def _env_lines(self, token, key):
        """The ``.env`` lines docker-compose.yaml reads for the worker service (.env.example)."""
        return "WORKER_UID=%s\nWORKER_TOKEN=%s\nODOO_API_KEY=%s\n" % (self.worker_uid, token, key)

    # ------------------------------------------------------------------ steps
    @api.model
    def _open_for(self, worker):
        """Action of step 1, for ``worker`` (name, URL and broker filled in) or a new one."""
        context = {}
        if worker:
            context = {"default_worker_id": worker.id, "default_name": worker.name,
                       "default_worker_uid": worker.worker_uid, "default_url": worker.url,
                       "default_broker_id": worker.broker_id.id}
        return self._action(_("Connect a worker"), context=context)

    def _action(self, title, context=None):
        action = {"type": "ir.actions.act_window", "res_model": self._name, "name": title,
                  "views": [(False, "form")], "target": "new", "context": context or {}}
        if self:
            action["res_id"] = self.id
        return action

    def _check_admin(self):
        rights.require(self.env, rights.SYSTEM, _("Connecting a worker"))

    def action_create_worker(self):
        """Step 1 -> 2: create (or update) the worker, mint its token and an Odoo API key, and show
        them once with the settings to paste."""
        self.ensure_one()
        # rights: _check_admin -> administrators only (AccessError).
        self._check_admin()
        if self.step != "worker":
            raise UserError(_("The worker's secrets were already shown; start again to generate new ones."))
        if not self.name or not self.worker_uid:
            raise UserError(_("Give the worker a name (its Worker UID is derived from it)."))
        vals = {"name": self.name, "worker_uid": self.worker_uid, "url": self.url or False,
                "broker_id": self.broker_id.id}
        worker = self.worker_id
        if worker:
            worker.write(vals)
        else:
            worker = self.env["workshop.worker"].create(vals)
        worker._check_can_show_secret(_("Connecting a worker"))
        token, key = worker._mint_token(), worker._mint_api_key()
        self.write({"worker_id": worker.id, "step": "secrets"})
        return self._action(_("Connect a worker: settings to paste"),
                            context={TOKEN_KEY: token, API_KEY_KEY: key})

    def action_wait(self):
        """Step 2 -> 3: the action of step 3 carries no secret, so they are not shown again."""
        self.ensure_one()
        # rights: _check_admin -> administrators only (AccessError).
        self._check_admin()
        self.step = "wait"
        return self._action(_("Connect a worker: waiting for the worker"))

    def action_open_worker(self):
        """Step 3: open the connected worker's form."""
        self.ensure_one()
        # rights: _check_admin -> administrators only (AccessError).
        self._check_admin()
        return {"type": "ir.actions.act_window", "res_model": "workshop.worker", "res_id": self.worker_id.id,
                "views": [(False, "form")], "target": "current"}
