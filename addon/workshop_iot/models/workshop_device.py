import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import rights

# Same pattern as shared/src/contracts/common.ts DeviceId. The topic rule is the shared schema's own
# (generated ``validate_device_topic``), so the form and the worker can never disagree on it.
_DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _validators():
    # Imported lazily: schema/generated.py is produced by shared/codegen (another part of the build).
    from ..schema import generated

    return generated


_JSON_PATH_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")

PARSER_TYPES = [
    ("shelly_gen2", "Shelly Gen2/Gen3 (Plus, Pro, PM Mini)"),
    ("shelly_gen1", "Shelly Gen1"),
    ("tasmota", "Tasmota"),
    ("generic_json", "Generic JSON"),
]
# Meter types whose MQTT topic is the device id itself: Shelly Gen2/Gen3 and Tasmota publish under
# their id, and Shelly Gen1's parser takes the id WITHOUT "shellies/" (worker/src/mqtt/parsers/
# shelly-gen1.ts adds the prefix). The form fills the topic from the id for them (see
# _onchange_derive_topic); a generic JSON meter's topic has nothing to do with an id.
TOPIC_IS_DEVICE_ID = {"shelly_gen2", "shelly_gen1", "tasmota"}


# A machine on one channel of a multi-channel meter has the id "<meter id>:<channel>" (what "Add as
# machine" proposes, so each machine on the meter is unique); the meter publishes under its own id.
_CHANNEL_SUFFIX_RE = re.compile(r":\d{1,2}$")


def derived_topic(parser_type, device_id):
    """The topic a meter of ``parser_type`` with ``device_id`` publishes under, or False."""
    if parser_type not in TOPIC_IS_DEVICE_ID or not device_id:
        return False
    return _CHANNEL_SUFFIX_RE.sub("", device_id) or device_id


LIVE_STATES = [
    ("idle", "Idle"), ("starting", "Starting"), ("standby", "Standby"), ("working", "Working"),
    ("stopping", "Stopping"), ("offline", "Offline"), ("unknown", "Unknown"),
]

# Fields that end up in the worker config (DeviceConfig). Billing and live fields are Odoo-only.
CONFIG_FIELDS = {
    "name", "device_id", "topic", "parser_type", "area", "worker_id", "active",
    "generic_field_path", "generic_unit", "generic_energy_path", "generic_energy_unit", "negative_noise_w",
    "channel", "phase", "tasmota_full_topic",
    "standby_threshold_w", "working_threshold_w", "start_debounce_s", "stop_debounce_s",
    "message_timeout_s", "heartbeat_interval_s", "recording",
}
BILLING_FIELDS = {
    "billing_unit_minutes", "billing_rounding", "billing_basis", "billing_min_units",
    "billing_price_unit", "currency_id",
}


class WorkshopDevice(models.Model):
    """A machine with its power meter: how the worker reads it, how sessions are billed, its live state."""

    _name = "workshop.device"
    _description = "Workshop Machine"
    _inherit = ["mail.thread", "workshop.worker.config.part"]
    _worker_config_fields = frozenset(CONFIG_FIELDS)
    _order = "area, name, id"
    # A machine's worker (and default member, when that partner belongs to a company) is of the
    # machine's company: a worker's API key then reaches only its own company's machines.
    _check_company_auto = True
    _sql_constraints = [
        # Partial uniqueness (archived devices free their id and topic) needs EXCLUDE: a UNIQUE
        # constraint cannot carry a WHERE clause. Declared here so Odoo shows the message.
        ("device_id_active_unique", "EXCLUDE (device_id WITH =) WHERE (active)",
         "Another active machine already uses this device id."),
        # One meter may serve several machines (a Pro 4PM's channels, a Pro 3EM's phases): the key is
        # the meter's topic AND the channel and phase read (shared/src/rules.ts, same key).
        ("topic_active_unique", "EXCLUDE (topic WITH =, channel WITH =, phase WITH =) WHERE (active)",
         "Another active machine already reads this channel and phase of this MQTT topic."),
        ("channel_range", "CHECK (channel >= 0 AND channel <= 15)",
         "The channel must be between 0 and 15."),
        ("thresholds_ordered", "CHECK (working_threshold_w > standby_threshold_w)",
         "The working threshold must be greater than the standby threshold."),
    ]

    # ------------------------------------------------------------------ identity and meter
    name = fields.Char(required=True, tracking=True, help="Machine name shown to staff, e.g. 'Laser cutter'.")
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", string="Company", required=True, index=True, tracking=True,
        default=lambda self: self.env.company,
        help="Company that owns the machine: only its users see the machine, its sessions and events.")
    device_id = fields.Char(
        string="Device ID", required=True, tracking=True, copy=False,
        help="Id of the meter as in its MQTT topics (Shelly id, Tasmota topic). Unique among active machines.",
    )
    topic = fields.Char(
        string="MQTT topic", required=True, tracking=True, copy=False,
        help="Topic prefix of the meter, e.g. 'shellyplus1pm-a8032ab1' or 'zigbee2mqtt/Office plug': "
        "spaces are fine; no wildcards (+ #) and no control characters.",
    )
    parser_type = fields.Selection(
        PARSER_TYPES, string="Meter type", required=True, default="shelly_gen2", tracking=True,
        help="Payload family of the meter; selects the worker's parser.",
    )
    topic_follows_id = fields.Boolean(
        string="Topic follows the device ID", compute="_compute_topic_follows_id", readonly=False,
        help="Form helper: while the topic is empty or what the device ID gives, changing the ID or "
        "the meter type fills it in; once the topic is typed by hand it is left alone.",
    )
    default_member_id = fields.Many2one(
        "res.partner", string="Default member", tracking=True, ondelete="restrict", check_company=True,
        help="A machine rented to one customer: its sessions go to this member unless a badge, a claim "
        "on the dashboard or a manager says otherwise.")
    area = fields.Char(tracking=True, help="Location or area, used to group machines on the dashboard.")
    worker_id = fields.Many2one(
        "workshop.worker", string="Worker", tracking=True, ondelete="restrict", index=True, check_company=True,
        help="Worker that reads this meter. Without a worker the machine is not monitored.",
    )
    generic_field_path = fields.Char(
        string="Power field path",
        help="Generic JSON: dotted path to the power value, e.g. 'ENERGY.Power'. Leave empty when the "
        "topic carries a bare number, e.g. Zigbee2MQTT attribute output 'zigbee2mqtt/<name>/power' or "
        "ESPHome '<node>/sensor/<name>/state'.",
    )
    generic_unit = fields.Selection([("W", "W"), ("kW", "kW")], string="Power unit", default="W")
    generic_energy_path = fields.Char(string="Energy field path", help="Generic JSON: optional path to energy.")
    generic_energy_unit = fields.Selection([("Wh", "Wh"), ("kWh", "kWh")], string="Energy unit")
    channel = fields.Integer(
        string="Channel", default=0, tracking=True,
        help="Which output or clamp of the meter this machine is wired to, numbered from 0 as the device "
        "numbers it (0-15). Shelly Gen2/Gen3/Pro: the N of the component id switch:N / pm1:N / em1:N, "
        "shown in the device's web UI (Pro 4PM outputs 1-4 are switch:0-3; Shelly.GetStatus lists the "
        "ids). Shelly Gen1: relay N / emeter N (Shelly 2.5 relays 0-1, EM clamps 0-1). Tasmota: "
        "Power1 is channel 0, Power2 channel 1 (the index in ENERGY.Power).",
    )
    phase = fields.Selection(
        [("total", "All phases (three-phase machine)"), ("a", "Phase A / L1"), ("b", "Phase B / L2"),
         ("c", "Phase C / L3")],
        string="Phase", default="total", required=True, tracking=True,
        help="Three-phase meters (Shelly Pro 3EM em:N, Gen1 3EM): the sum of all phases for a three-phase "
        "machine, or the one phase a single-phase machine is wired to (A/L1 = the meter's first clamp).",
    )
    tasmota_full_topic = fields.Char(
        string="Tasmota FullTopic", default="%prefix%/%topic%/", tracking=True,
        help="Tasmota: the FullTopic template if it was changed on the device (Configuration > MQTT, or "
        "the FullTopic command); must contain %prefix% and %topic%.",
    )
    negative_noise_w = fields.Float(
        string="Negative noise band (W)", default=1.0, tracking=True,
        help="Meters read a little below zero when idle. A reading between -band and 0 W counts as 0 W; "
        "below -band it is rejected as a parse error and changes nothing (0-1000 W).",
    )

    # ------------------------------------------------------------------ session detection (_w watts, _s seconds)
    standby_threshold_w = fields.Float(
        string="Standby threshold (W)", default=5.0, tracking=True,
        help="At or above this power a session starts (standby).",
    )
    working_threshold_w = fields.Float(
        string="Working threshold (W)", default=50.0, tracking=True,
        help="At or above this power the machine is working. Must exceed the standby threshold.",
    )
    start_debounce_s = fields.Integer(
        string="Start debounce (s)", default=10, help="Power must stay above standby this long to start a session."
    )
    stop_debounce_s = fields.Integer(
        string="Stop debounce (s)", default=30, help="Power must stay below standby this long to end a session."
    )
    message_timeout_s = fields.Integer(
        string="Message timeout (s)", default=600,
        help="Silence after which the worker polls the meter and, without answer, marks it offline.",
    )
    heartbeat_interval_s = fields.Integer(
        string="Heartbeat interval (s)", default=60, help="How often a running session reports its times."
    )
    recording = fields.Boolean(
        string="Record readings", default=True, tracking=True,
        help="The worker keeps this machine's power readings for a while so that 'Calibrate' can "
        "propose thresholds from them (the worker's own recording setting must be on too).",
    )

    # ------------------------------------------------------------------ billing policy
    billing_unit_minutes = fields.Integer(
        string="Billing unit (min)", default=15, tracking=True, help="Length of one billing unit in minutes."
    )
    billing_rounding = fields.Selection(
        [("up", "Round up"), ("nearest", "Round to nearest"), ("down", "Round down")],
        string="Rounding", default="up", required=True, tracking=True, help="How partial units are rounded.",
    )
    billing_basis = fields.Selection(
        [("working", "Working time"), ("working_standby", "Working + standby time")],
        string="Billed time", default="working", required=True, tracking=True,
        help="Which time of a session is billable.",
    )
    billing_min_units = fields.Integer(
        string="Minimum units", default=0, tracking=True,
        help="Units billed at least for a session with any billable time.",
    )
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id, help="Currency of the unit price."
    )
    billing_price_unit = fields.Monetary(
        string="Price per unit", tracking=True, help="Optional price of one unit; 0 = no amount computed."
    )
    billing_product_code = fields.Char(
        string="Billing product reference",
        help="Internal reference of the product an invoicing integration should use for this machine "
        "(kept as text: the addon does not depend on the product module).",
    )

    # ------------------------------------------------------------------ live state (worker.status + events)
    live_state = fields.Selection(LIVE_STATES, string="State", default="unknown", required=True, readonly=True,
                                  help="Live state as last reported by the worker.")
    live_power_w = fields.Float(string="Power (W)", readonly=True, help="Last reported power.")
    live_session_id = fields.Char(string="Live session UUID", readonly=True,
                                  help="Worker session uuid of the running session, if any.")
    live_session_started_at = fields.Datetime(string="Session started", readonly=True)
    live_session_working_s = fields.Float(
        string="Session working time",
        readonly=True,
        help="Working seconds of the running session.",
    )
    live_session_standby_s = fields.Float(
        string="Session standby time",
        readonly=True,
        help="Standby seconds of the running session.",
    )
    live_last_seen_at = fields.Datetime(string="Last seen", readonly=True, help="Last message from the meter.")
    live_changed_at = fields.Datetime(
        string="State reported",
        readonly=True,
        help="When the live state was last reported.",
    )

    session_ids = fields.One2many("workshop.session", "device_id", string="Sessions")
    session_count = fields.Integer(string="Number of sessions", compute="_compute_session_count")

    # ------------------------------------------------------------------ computes
    def _compute_session_count(self):
        counts = dict(self.env["workshop.session"]._read_group(
            [("device_id", "in", self.ids)], ["device_id"], ["__count"]))
        for device in self:
            device.session_count = counts.get(device, 0)

    # ------------------------------------------------------------------ topic from the id
    # Depends on the topic only: typing a topic by hand stops the following, changing the id does not.
    @api.depends("topic")
    def _compute_topic_follows_id(self):
        for device in self:
            device.topic_follows_id = not device.topic or device.topic == derived_topic(
                device.parser_type, device.device_id)

    @api.onchange("device_id", "parser_type")
    def _onchange_derive_topic(self):
        for device in self:
            topic = derived_topic(device.parser_type, device.device_id)
            if topic and device.topic_follows_id:
                device.topic = topic

    # ------------------------------------------------------------------ constraints
    @api.constrains("device_id", "topic")
    def _check_identifiers(self):
        for device in self:
            if not _DEVICE_ID_RE.match(device.device_id or ""):
                raise ValidationError(
                    _("Device id %(id)r: letters, digits, _ . : - (1-64 characters).", id=device.device_id),
                )
            errors = _validators().validate_device_topic(device.topic or "")
            if errors:
                raise ValidationError(_("MQTT topic %(t)r %(why)s.", t=device.topic, why=errors[0]["message"]))

    @api.constrains("standby_threshold_w", "working_threshold_w", "start_debounce_s", "stop_debounce_s",
                    "message_timeout_s", "heartbeat_interval_s")
    def _check_session_config(self):
        for device in self:
            if device.standby_threshold_w < 0 or device.working_threshold_w <= device.standby_threshold_w:
                raise ValidationError(_("%(name)s: thresholds must satisfy 0 <= standby < working.", name=device.name))
            if not (0 <= device.start_debounce_s <= 3600 and 0 <= device.stop_debounce_s <= 3600):
                raise ValidationError(_("%(name)s: debounce times must be between 0 and 3600 s.", name=device.name))
            if not (5 <= device.message_timeout_s <= 86400 and 5 <= device.heartbeat_interval_s <= 86400):
                raise ValidationError(
                    _("%(name)s: message timeout and heartbeat interval must be between 5 and 86400 s.",
                      name=device.name))

    @api.constrains("negative_noise_w")
    def _check_negative_noise(self):
        for device in self:
            if not 0 <= device.negative_noise_w <= 1000:
                raise ValidationError(
                    _("%(name)s: the negative noise band must be between 0 and 1000 W.", name=device.name),
                )

    @api.constrains("parser_type", "generic_field_path", "generic_energy_path")
    def _check_generic(self):
        for device in self.filtered(lambda d: d.parser_type == "generic_json"):
            # No power path = the payload is a bare number (Zigbee2MQTT attribute output, ESPHome).
            if device.generic_field_path and not _JSON_PATH_RE.match(device.generic_field_path):
                raise ValidationError(
                    _("%(name)s: the power field path is not a dotted path like 'ENERGY.Power'.", name=device.name),
                )
            if device.generic_energy_path and not device.generic_field_path:
                raise ValidationError(_(
                    "%(name)s: an energy field path needs a power field path (a bare-number topic carries "
                    "the power only).", name=device.name))
            if device.generic_energy_path and not _JSON_PATH_RE.match(device.generic_energy_path):
                raise ValidationError(_("%(name)s: the energy field path is not a dotted path.", name=device.name))

    @api.constrains("billing_unit_minutes", "billing_min_units", "billing_price_unit")
    def _check_billing(self):
        for device in self:
            if device.billing_unit_minutes <= 0:
                raise ValidationError(_("%(name)s: the billing unit must be at least one minute.", name=device.name))
            if device.billing_min_units < 0 or device.billing_price_unit < 0:
                raise ValidationError(_("%(name)s: minimum units and price cannot be negative.", name=device.name))

    # ------------------------------------------------------------------ CRUD
    # Creating, changing a config field or deleting a machine pushes the config (workshop.worker.config.part).
    def write(self, vals):
        res = super().write(vals)
        if BILLING_FIELDS.intersection(vals):
            self.session_ids.filtered(lambda s: s.billing_state != "billed")._update_billing()
        return res

    # ------------------------------------------------------------------ actions
    def action_push_config(self):
        """Button "Push config to worker" on the machine form (managers, AccessError otherwise)."""
        self.ensure_one()
        rights.require(self.env, rights.MANAGER, _("Pushing a worker's config"))
        if not self.worker_id:
            return self.worker_id._notify(_("No worker"), _("Assign a worker to this machine first."), "warning")
        return self.worker_id.action_push_config()

    def action_view_sessions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("workshop_iot.workshop_session_action")
        action["domain"] = [("device_id", "=", self.id)]
        action["context"] = {"default_device_id": self.id}
        return action

    # ------------------------------------------------------------------ business
    def _to_config(self):
        """DeviceConfig of this machine (shared/src/contracts/worker-config.ts)."""
        self.ensure_one()
        conf = {
            "device_id": self.device_id,
            "name": self.name[:128],
            "parser_type": self.parser_type,
            "topic": self.topic,
            "negative_noise_w": self.negative_noise_w,
            "session_config": {
                "standby_threshold_w": self.standby_threshold_w,
                "working_threshold_w": self.working_threshold_w,
                "start_debounce_s": self.start_debounce_s,
                "stop_debounce_s": self.stop_debounce_s,
                "message_timeout_s": self.message_timeout_s,
                "heartbeat_interval_s": self.heartbeat_interval_s,
            },
        }
        if self.area:
            conf["area"] = self.area[:128]
        if not self.recording:
            conf["recording"] = False  # absent = recorded (the contract's default)
        if self.channel:
            conf["channel"] = self.channel
        if self.phase and self.phase != "total":
            conf["phase"] = self.phase
        if self.parser_type == "tasmota" and self.tasmota_full_topic and self.tasmota_full_topic != "%prefix%/%topic%/":
            conf["tasmota_full_topic"] = self.tasmota_full_topic
        if self.parser_type == "generic_json":
            generic = {"unit": self.generic_unit or "W"}
            if self.generic_field_path:
                generic["field_path"] = self.generic_field_path
            if self.generic_energy_path:
                generic["energy_path"] = self.generic_energy_path
                generic["energy_unit"] = self.generic_energy_unit or "Wh"
            conf["generic"] = generic
        return conf

    @api.model
    def _for_ingest(self, worker, device_keys):
        """{device id: machine of ``worker``} for events of ``worker``. Only the worker's own
        machines: an event never lands on another worker's machine, whatever it claims (ingest
        refuses those, ``_ingest_scope``; this holds for events stored earlier and reprocessed).
        Archived machines still count (a stop with reason 'removed' arrives after the archive);
        preferred: active over archived, then the newest."""
        devices = self.with_context(active_test=False).search(
            [("device_id", "in", list(device_keys)), ("worker_id", "=", worker.id)], order="id desc")
        best = {}
        for device in devices:
            if device.device_id not in best or device.active > best[device.device_id].active:
                best[device.device_id] = device
        return best

    @api.model
    def _ingest_scope(self, worker, device_keys):
        """``(created, forbidden)`` for events of ``worker`` naming ``device_keys``: ``created`` maps
        each id of the worker's own machines (archived ones too) to the earliest creation of such a
        machine in Odoo; ``forbidden`` holds the ids only other workers' machines carry. An id no
        machine carries is in neither (stored as 'unknown machine', reprocessable)."""
        self.flush_model(["device_id", "worker_id"])
        self.env.cr.execute(SQL(
            """SELECT device_id, bool_or(worker_id = %s), min(create_date) FILTER (WHERE worker_id = %s),
                      bool_or(worker_id IS NOT NULL AND worker_id != %s)
                 FROM workshop_device WHERE device_id = ANY(%s) GROUP BY device_id""",
            worker.id, worker.id, worker.id, list(device_keys)))
        created, forbidden = {}, set()
        for key, own, first_created, others in self.env.cr.fetchall():
            if own:
                created[key] = first_created
            elif others:
                forbidden.add(key)
        return created, forbidden
