"""Who may mint, see and route a worker's secrets.

Policy (also in readme/CONFIGURE.md "Secrets"):

- Only administrators (``base.group_system``) mint or rotate secrets: the worker token and the
  integration user's Odoo API keys. The buttons are hidden for others, and the methods check again.
- A secret is shown once, in the response that created it. The generating request first makes sure
  the caller can open the dialog (``workshop.worker.secret``), so nothing changes unless it is shown.
- The integration user's keys never expire (a service must not stop on a date), so they are listed
  on the worker form with a revoke button (Odoo's own ``res.users.apikeys.remove``, admin or owner).
- Destinations are admin-only: the worker token, the broker password and the TLS client key are
  administrator-only fields, and a config push carries all three to the worker URL (the token in
  the Authorization header, the others in ``config.apply``). So who cannot read them must not choose
  where they go: creating or writing a worker's ``url``, or pointing a worker that has a URL at a
  broker with secrets, needs ``base.group_system`` whenever that would send a secret; the broker's
  own destination fields are guarded in ``workshop_broker.py``. A manager may still set the URL of
  a worker that carries no secret (no token, no broker password or key). ``worker.hello`` fills an
  empty URL from the worker's ``http_url`` in superuser mode: the integration user already receives
  the config in the hello answer.
"""

import secrets

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import rights

# Worker fields that decide where the config (and with it every secret) is sent.
DESTINATION_FIELDS = {"url", "broker_id"}


class WorkshopWorker(models.Model):
    _inherit = "workshop.worker"

    api_key_ids = fields.One2many(
        "res.users.apikeys",
        compute="_compute_api_key_ids",
        groups="base.group_system",
        string="Integration user's API keys",
        help="API keys of the integration user. They do not expire: revoke a key that is not in use.",
    )

    def _compute_api_key_ids(self):
        for worker in self:
            worker.api_key_ids = worker.user_id.sudo().api_key_ids

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.browse()._check_secret_destination(vals)
        return super().create(vals_list)

    def write(self, vals):
        # Checked before anything is written, so a refused change queues no push either.
        for worker in self:
            worker._check_secret_destination(vals)
        return super().write(vals)

    def _check_secret_destination(self, vals):
        """Raise ``AccessError`` when a caller who cannot read the secrets would, with ``vals``,
        send one to a destination of their choice (this worker, or a new one when ``self`` is empty)."""
        if not DESTINATION_FIELDS.intersection(vals) or rights.reads_secrets(self.env):
            return
        sent = self._secrets_sent_after(vals)
        if sent:
            raise AccessError(_(
                "Only administrators may change where worker %(name)s sends its config: it carries "
                "%(secrets)s, which you cannot read.",
                name=vals.get("name") or self.name or vals.get("worker_uid"), secrets=", ".join(sent),
            ))

    def _secrets_sent_after(self, vals):
        """Names of the admin-only secrets that a push would newly send after writing ``vals``."""
        worker = self.sudo()
        url = vals["url"] if "url" in vals else worker.url
        if not url:
            return []  # nothing is pushed without a URL
        broker = (self.env["workshop.broker"].sudo().browse(vals["broker_id"]) if "broker_id" in vals
                  else worker.broker_id)
        if "url" in vals and url != worker.url:
            token = [_("the worker token")] if vals.get("token") or worker.token else []
            return token + broker._secret_names()
        if "broker_id" in vals and broker != worker.broker_id:
            return broker._secret_names()
        return []

    # ------------------------------------------------------------------ actions
    def action_generate_token(self):
        """Generate a new worker token (administrators), store it and show it once."""
        self.ensure_one()
        # rights: _check_can_show_secret -> administrators only (AccessError) + write access.
        self._check_can_show_secret(_("Generating a worker token"))
        token = self._mint_token()
        return self.env["workshop.worker.secret"]._show(
            _("Worker token"), token, _("Worker settings: http.token (env WORKSHOP_IOT_HTTP_TOKEN)"))

    def action_generate_api_key(self):
        """Create an Odoo API key for the integration user (administrators) and show it once.

        Creates the integration user (worker group only: no backend menus, no model access) when
        the worker has none. The key never expires: it is listed on the worker form to be revoked.
        """
        self.ensure_one()
        # rights: _check_can_show_secret -> administrators only (AccessError) + write access.
        self._check_can_show_secret(_("Generating an Odoo API key"))
        key = self._mint_api_key()
        return self.env["workshop.worker.secret"]._show(
            _("Odoo API key"), key, _("Worker settings: odoo.api_key (env WORKSHOP_IOT_ODOO_API_KEY)"))

    def _mint_token(self):
        """Store a new random worker token and return it. Callers check the rights first."""
        self.ensure_one()
        token = secrets.token_urlsafe(32)
        self.sudo().token = token
        return token

    def _mint_api_key(self):
        """Create an Odoo API key of the integration user (created, worker group only, when the
        worker has none) and return it. Callers check the rights first."""
        self.ensure_one()
        user = self.user_id
        if not user:
            # sudo: the caller is an administrator (checked by every caller), but creating a user
            # also creates its partner, which needs "Contact Creation" that Settings does not imply.
            # The account is a service user in the worker group only.
            user = self.env["res.users"].sudo().create({
                "name": _("Workshop worker %s", self.worker_uid),
                "login": "workshop-worker-%s" % self.worker_uid,
                # The worker's company only: its env.company (defaults, the workshop timezone of
                # the dashboard payload it computes) is the company of the machines it reads.
                "company_id": self.company_id.id,
                "company_ids": [fields.Command.set(self.company_id.ids)],
                "groups_id": [fields.Command.set([self.env.ref(rights.WORKER).id])],
            })
            self.user_id = user
        elif not user.has_group(rights.WORKER):
            raise UserError(_("User %s is not in the group Workshop IoT / Worker integration.", user.name))
        # sudo() keeps the uid: the key belongs to the integration user, and sudo allows a key
        # without expiry (res.users.apikeys._check_expiration_date), as a service account needs.
        return self.env["res.users.apikeys"].with_user(user).sudo()._generate(
            None, "workshop_iot %s" % self.worker_uid, None)

    def action_connect(self):
        """Open the guided "Connect a worker" wizard (administrators): for this worker, or for a
        new one when called on an empty recordset (the Workers list's button)."""
        # rights: rights.require raises AccessError unless the caller is an administrator.
        rights.require(self.env, rights.SYSTEM, _("Connecting a worker"))
        return self.env["workshop.worker.connect"]._open_for(self[:1])

    def _check_can_show_secret(self, what):
        """Administrators only, and only when the show-once dialog will open for them: checked
        before the secret is created, so nothing changes that nobody sees."""
        rights.require(self.env, rights.SYSTEM, what)
        self.check_access("write")
        self.env["workshop.worker.secret"].check_access("create")
