import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..tools import rights

# Same pattern as shared/src/contracts/worker-config.ts BrokerConfig.url (the generated validator is
# the final judge when the config is built; this check gives the admin the error on save).
_BROKER_URL_RE = re.compile(r"^mqtts?://[!-.0-~]+/?$")

# Fields that end up in the worker config: a change re-pushes every worker using the broker.
CONFIG_FIELDS = {
    "embedded", "url", "username", "password", "client_id", "keepalive_s", "reconnect_min_ms",
    "reconnect_max_ms", "tls_ca", "tls_cert", "tls_key", "tls_insecure", "active",
}

# Fields that decide where the worker connects and which server it trusts with the password and the
# TLS client key: admin-only while the broker holds one of them (policy: workshop_worker_secrets.py).
DESTINATION_FIELDS = {"embedded", "url", "tls_ca", "tls_insecure"}


class WorkshopBroker(models.Model):
    """MQTT broker the workers connect to (or the worker's embedded broker)."""

    _name = "workshop.broker"
    _description = "Workshop MQTT Broker"
    _order = "name, id"

    name = fields.Char(required=True, help="Label shown to admins, e.g. 'Hall A mosquitto'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", string="Company", index=True, default=lambda self: self.env.company,
        help="Company whose workers use this broker. Empty: shared by the workers of every company.")
    embedded = fields.Boolean(
        help="Use the broker embedded in the worker (no external broker). The URL is then ignored.",
    )
    url = fields.Char(
        string="URL",
        help="mqtt://host:port or mqtts://host:port, without credentials. Only administrators may change "
        "it (and the TLS trust fields) once the broker has a password or TLS key.",
    )
    username = fields.Char(help="MQTT user name, if the broker requires one.")
    password = fields.Char(
        groups="base.group_system",
        copy=False,
        help="MQTT password. Only administrators can read it; it travels to the worker in config.apply.",
    )
    client_id = fields.Char(
        string="Client ID",
        help="MQTT client id; empty lets the worker derive one from its worker uid.",
    )
    keepalive_s = fields.Integer(string="Keepalive (s)", default=60, help="MQTT keepalive in seconds.")
    reconnect_min_ms = fields.Integer(
        string="Reconnect min (ms)", default=1000, help="First reconnect delay after a lost connection."
    )
    reconnect_max_ms = fields.Integer(
        string="Reconnect max (ms)", default=30000, help="Upper bound of the reconnect backoff."
    )
    tls_ca = fields.Text(string="TLS CA (PEM)", help="CA bundle that signs the broker's certificate.")
    tls_cert = fields.Text(string="TLS client certificate (PEM)", help="Client certificate, if required.")
    tls_key = fields.Text(
        string="TLS client key (PEM)",
        groups="base.group_system",
        copy=False,
        help="Client private key. Only administrators can read it.",
    )
    tls_insecure = fields.Boolean(
        string="Skip TLS verification", help="Do not verify the broker certificate. Testing only."
    )
    worker_ids = fields.One2many("workshop.worker", "broker_id", string="Workers")
    note = fields.Text()

    @api.constrains("embedded", "url")
    def _check_url(self):
        for broker in self:
            if broker.embedded:
                continue
            if not broker.url or not _BROKER_URL_RE.match(broker.url):
                raise ValidationError(
                    _("Broker %(name)s: the URL must look like mqtt://host:1883 or mqtts://host:8883.",
                      name=broker.name)
                )

    @api.constrains("keepalive_s", "reconnect_min_ms", "reconnect_max_ms")
    def _check_timings(self):
        for broker in self:
            if not 0 <= broker.keepalive_s <= 65535:
                raise ValidationError(_("Keepalive must be between 0 and 65535 seconds."))
            if not 100 <= broker.reconnect_min_ms <= 600000:
                raise ValidationError(_("Reconnect min must be between 100 and 600000 ms."))
            if not broker.reconnect_min_ms <= broker.reconnect_max_ms <= 3600000:
                raise ValidationError(_("Reconnect max must be at least reconnect min and at most 3600000 ms."))

    def write(self, vals):
        self._check_secret_destination(vals)
        res = super().write(vals)
        if CONFIG_FIELDS.intersection(vals):
            self.with_context(active_test=False).worker_ids._config_changed()
        return res

    def unlink(self):
        workers = self.with_context(active_test=False).worker_ids
        res = super().unlink()
        workers.exists()._config_changed()
        return res

    def _check_secret_destination(self, vals):
        """A caller who cannot read the password or TLS key must not redirect them: changing where
        the worker connects, or which certificate it trusts, would hand them to another server."""
        changed = DESTINATION_FIELDS.intersection(vals)
        if not changed or rights.reads_secrets(self.env):
            return
        for broker in self.sudo():
            sent = broker._secret_names(ignore_embedded=True)
            if sent and any(broker[name] != vals[name] for name in changed):
                raise AccessError(_(
                    "Only administrators may change %(fields)s of broker %(name)s: it holds %(secrets)s, "
                    "which you cannot read.",
                    fields=", ".join(sorted(changed)), name=broker.name, secrets=", ".join(sent),
                ))

    def _secret_names(self, ignore_embedded=False):
        """Names of the admin-only secrets this broker sends to its workers (none when embedded)."""
        broker = self.sudo()
        if not broker or (broker.embedded and not ignore_embedded):
            return []
        return ([_("the broker password")] if broker.password else []) + (
            [_("the TLS client key")] if broker.tls_key else [])

    def _to_config(self):
        """The ``broker`` member of the worker config (BrokerConfig in worker-config.ts)."""
        if not self:
            return {"url": None}
        self.ensure_one()
        # sudo: the password and TLS key are admin-only fields, but the config is built for any
        # manager's save and sent to the worker, which needs them.
        broker = self.sudo()
        if broker.embedded:
            return {"url": None}
        conf = {
            "url": broker.url,
            "keepalive_s": broker.keepalive_s,
            "reconnect_min_ms": broker.reconnect_min_ms,
            "reconnect_max_ms": broker.reconnect_max_ms,
        }
        for key in ("username", "password", "client_id"):
            if broker[key]:
                conf[key] = broker[key]
        tls = {key: broker["tls_" + key] for key in ("ca", "cert", "key") if broker["tls_" + key]}
        if broker.tls_insecure:
            tls["insecure"] = True
        if tls:
            conf["tls"] = tls
        return conf
