"""Meters a worker heard announcing themselves on its broker (``discovery.report``), and the
**Add as machine** action that turns one of their channels into a ``workshop.device``.

Nothing here changes a machine, a session or the dashboard: a discovered meter is only a proposal
until a manager saves the machine form it pre-fills. An ignored meter stays ignored (and hidden)
when the worker reports it again; a forgotten one is deleted and comes back as new when it
announces itself again.
"""

import re

from odoo import api, fields, models

from ..tools import rights
from .workshop_device import PARSER_TYPES

FAMILIES = [
    ("shelly_gen2", "Shelly Gen2/Gen3"),
    ("shelly_gen1", "Shelly Gen1"),
    ("tasmota", "Tasmota"),
    ("zigbee2mqtt", "Zigbee2MQTT"),
]
MEASURES = [("power", "Power"), ("three_phase", "Three-phase (A, B, C)"), ("energy", "Energy only")]
DEFAULT_FULL_TOPIC = "%prefix%/%topic%/"
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:-]+")


def machine_device_id(device_key, channel, multi_channel):
    """A ``DeviceId`` (``^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$``) for a meter's channel: the meter's key,
    with ``:<channel>`` when the meter has several channels, so each machine on it gets its own."""
    suffix = ":%d" % channel if multi_channel else ""
    base = _NOT_ID_CHARS.sub("-", device_key).lstrip("-_.:") or "meter"
    return base[: 64 - len(suffix)] + suffix


class WorkshopDiscoveredMeter(models.Model):
    _name = "workshop.discovered.meter"
    _description = "Discovered meter"
    _order = "state, last_seen_at desc, id desc"
    _rec_name = "display_label"
    _sql_constraints = [
        ("worker_device_unique", "UNIQUE (worker_id, family, device_key)",
         "This worker already reported this meter."),
    ]

    worker_id = fields.Many2one("workshop.worker", string="Worker", required=True, ondelete="cascade",
                                index=True, readonly=True)
    family = fields.Selection(FAMILIES, required=True, readonly=True)
    device_key = fields.Char(string="Device key", required=True, readonly=True,
                             help="Shelly device id, Tasmota MAC address or Zigbee IEEE address.")
    model_name = fields.Char(string="Model", readonly=True)
    device_name = fields.Char(string="Name on the device", readonly=True)
    parser_type = fields.Selection(PARSER_TYPES, string="Meter type", required=True, readonly=True)
    topic = fields.Char(string="MQTT topic", required=True, readonly=True)
    tasmota_full_topic = fields.Char(string="Tasmota FullTopic", readonly=True)
    channel_ids = fields.One2many("workshop.discovered.meter.channel", "meter_id", string="Channels",
                                  readonly=True)
    channel_count = fields.Integer(compute="_compute_channel_stats", string="Number of channels")
    added_count = fields.Integer(compute="_compute_channel_stats", string="Added as machines")
    state = fields.Selection([("new", "New"), ("ignored", "Ignored")], default="new", required=True,
                             readonly=True, index=True)
    first_seen_at = fields.Datetime(string="First seen", readonly=True)
    last_seen_at = fields.Datetime(string="Last seen", readonly=True)
    display_label = fields.Char(compute="_compute_display_label", string="Meter", store=True)

    @api.depends("model_name", "device_name", "device_key")
    def _compute_display_label(self):
        for meter in self:
            label = meter.device_name or meter.model_name or ""
            meter.display_label = "%s (%s)" % (label, meter.device_key) if label else meter.device_key

    @api.depends("channel_ids")
    def _compute_channel_stats(self):
        for meter in self:
            meter.channel_count = len(meter.channel_ids)
            meter.added_count = len(meter.channel_ids.filtered("added"))

    def action_ignore(self):
        """Hide the meter for good: reports of it are kept out and the worker stops sending them."""
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Ignoring a discovered meter"))
        self.write({"state": "ignored"})

    def action_restore(self):
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Restoring an ignored meter"))
        self.write({"state": "new"})

    def action_forget(self):
        """Delete the meter: it comes back as new when it announces itself again."""
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Forgetting a discovered meter"))
        self.unlink()

    @api.model
    def _report(self, worker, meters):
        """Upsert the meters ``worker`` reported; return the reported ones that are ignored.

        Called by ``discovery.report`` (sudo, after the key was checked to own ``worker``): it only
        ever reads and writes rows of ``worker``.
        """
        now = fields.Datetime.now()
        keys = {(m["family"], m["device_key"]) for m in meters}
        existing = self.search([("worker_id", "=", worker.id), ("device_key", "in", [k for _f, k in keys])])
        by_key = {(m.family, m.device_key): m for m in existing}
        ignored = []
        for item in meters:
            vals = {
                "model_name": item.get("model") or False,
                "device_name": item.get("name") or False,
                "parser_type": item["parser_type"],
                "topic": item["topic"],
                "tasmota_full_topic": item.get("tasmota_full_topic") or False,
                "last_seen_at": now,
            }
            channels = [_channel_vals(c) for c in item["channels"]]
            meter = by_key.get((item["family"], item["device_key"]))
            if meter is None:
                meter = self.create(dict(vals, worker_id=worker.id, family=item["family"],
                                         device_key=item["device_key"], first_seen_at=now,
                                         channel_ids=[(0, 0, c) for c in channels]))
                by_key[(item["family"], item["device_key"])] = meter
                continue
            if [_channel_vals(c, from_record=True) for c in meter.channel_ids.sorted("channel")] != channels:
                vals["channel_ids"] = [(5, 0, 0)] + [(0, 0, c) for c in channels]
            meter.write(vals)
            if meter.state == "ignored":
                ignored.append({"family": meter.family, "device_key": meter.device_key})
        return ignored


def _channel_vals(channel, from_record=False):
    if from_record:
        return {
            "channel": channel.channel, "component": channel.component, "measures": channel.measures,
            "energy": channel.energy, "value_path": channel.value_path or False,
            "energy_path": channel.energy_path or False,
        }
    return {
        "channel": channel["channel"], "component": channel["component"], "measures": channel["measures"],
        "energy": channel["energy"], "value_path": channel.get("value_path") or False,
        "energy_path": channel.get("energy_path") or False,
    }


class WorkshopDiscoveredMeterChannel(models.Model):
    _name = "workshop.discovered.meter.channel"
    _description = "Channel of a discovered meter"
    _order = "meter_id, channel, id"

    meter_id = fields.Many2one("workshop.discovered.meter", required=True, ondelete="cascade", index=True)
    channel = fields.Integer(required=True)
    component = fields.Char(required=True, help="The component on the device, e.g. switch:2, em:0, relay/1.")
    measures = fields.Selection(MEASURES, required=True)
    energy = fields.Boolean(string="Energy counter")
    value_path = fields.Char(string="Power field path")
    energy_path = fields.Char(string="Energy field path")
    device_ids = fields.Many2many("workshop.device", compute="_compute_device_ids", string="Machines")
    added = fields.Boolean(compute="_compute_device_ids", string="Added")

    @api.depends("meter_id.topic", "channel", "meter_id.parser_type")
    def _compute_device_ids(self):
        """Machines already reading this channel: same topic and, on multi-channel meter types, the
        same channel (a generic_json meter has one value per topic and field path)."""
        Device = self.env["workshop.device"]
        for line in self:
            domain = [("topic", "=", line.meter_id.topic)]
            if line.meter_id.parser_type == "generic_json":
                domain.append(("generic_field_path", "=", line.value_path or False))
            else:
                domain.append(("channel", "=", line.channel))
            line.device_ids = Device.search(domain) if line.meter_id.topic else Device
            line.added = bool(line.device_ids)

    def action_add_machine(self):
        """Open a new machine form pre-filled from this channel (nothing is saved until the manager does)."""
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Adding a machine from a discovered meter"))
        self.ensure_one()
        meter = self.meter_id
        multi = len(meter.channel_ids) > 1
        label = meter.device_name or meter.model_name or meter.device_key
        defaults = {
            "default_name": ("%s - channel %d" % (label, self.channel)) if multi else label,
            "default_device_id": machine_device_id(meter.device_key, self.channel, multi),
            "default_parser_type": meter.parser_type,
            "default_topic": meter.topic,
            "default_worker_id": meter.worker_id.id,
            "default_company_id": meter.worker_id.company_id.id,  # the worker's machines are of its company
            "default_channel": self.channel,
            "default_phase": "total",
            "default_tasmota_full_topic": meter.tasmota_full_topic or DEFAULT_FULL_TOPIC,
        }
        if meter.parser_type == "generic_json":
            defaults.update({
                "default_generic_field_path": self.value_path or "power",
                "default_generic_unit": "W",
                "default_generic_energy_path": self.energy_path or False,
                "default_generic_energy_unit": "kWh" if self.energy_path else False,
            })
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New machine"),
            "res_model": "workshop.device",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": defaults,
        }
