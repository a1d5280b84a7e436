"""Badge readers: a card reader on MQTT paired with one machine, read by that machine's worker."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .workshop_device import _DEVICE_ID_RE, _JSON_PATH_RE, _validators

# What the worker's config carries for a reader (BadgeReaderConfig); a change pushes the config.
CONFIG_FIELDS = {"name", "reader_id", "parser_type", "topic", "tasmota_full_topic", "card_path", "device_id", "active"}
DEFAULT_FULL_TOPIC = "%prefix%/%topic%/"


class WorkshopBadgeReader(models.Model):
    """A badge reader (Tasmota with PN532/RDM6300/Wiegand, ESPHome, any JSON or bare-value reader).
    Each card read becomes a ``badge_presented`` event of the reader, attributed to its machine's
    sessions (readme/USAGE.md). The reader belongs to the worker of its machine."""

    _name = "workshop.badge.reader"
    _inherit = ["workshop.worker.config.part"]  # changes push the config
    _worker_config_fields = frozenset(CONFIG_FIELDS)
    _description = "Workshop Badge Reader"
    _order = "name, id"
    _sql_constraints = [
        ("reader_id_active_unique", "EXCLUDE (reader_id WITH =) WHERE (active)",
         "Another active badge reader already uses this reader id."),
    ]

    name = fields.Char(required=True, help="Reader name shown to staff, e.g. 'Laser door reader'.")
    active = fields.Boolean(default=True)
    reader_id = fields.Char(
        string="Reader ID", required=True, copy=False,
        help="Id of the reader in events (letters, digits, _ . : -); unique among active readers and "
             "distinct from the machines' device ids (the worker numbers each id's events).")
    device_id = fields.Many2one(
        "workshop.device", string="Machine", required=True, ondelete="cascade", index=True,
        help="The machine this reader is next to: a card read here attributes that machine's sessions.")
    worker_id = fields.Many2one(
        related="device_id.worker_id", store=True, index=True, string="Worker",
        help="The worker that reads the machine reads its badge reader too.")
    parser_type = fields.Selection(
        [("tasmota", "Tasmota (PN532, RDM6300, Wiegand)"), ("generic_json", "Generic JSON or bare value")],
        string="Reader type", required=True, default="tasmota")
    topic = fields.Char(
        string="MQTT topic", required=True,
        help="Tasmota: the device's topic (%topic%); generic: the full topic the card id is published on.")
    tasmota_full_topic = fields.Char(
        string="Tasmota FullTopic", default=DEFAULT_FULL_TOPIC,
        help="Tasmota: the FullTopic template if it was changed on the device; must contain %prefix% and %topic%.")
    card_path = fields.Char(
        string="Card field path",
        help="Generic: dotted path to the card id in a JSON payload, e.g. 'card.uid'. Empty: the payload "
             "is the bare card id (ESPHome text sensor).")

    @api.constrains("reader_id", "topic", "card_path", "tasmota_full_topic", "parser_type")
    def _check_reader(self):
        for reader in self:
            if not _DEVICE_ID_RE.match(reader.reader_id or ""):
                raise ValidationError(
                    _("Reader id %(id)r: letters, digits, _ . : - (1-64 characters).", id=reader.reader_id),
                )
            errors = _validators().validate_device_topic(reader.topic or "")
            if errors:
                raise ValidationError(_("MQTT topic %(t)r %(why)s.", t=reader.topic, why=errors[0]["message"]))
            if reader.card_path and not _JSON_PATH_RE.match(reader.card_path):
                raise ValidationError(
                    _("%(name)s: the card field path is not a dotted path like 'card.uid'.", name=reader.name),
                )
            full = reader.tasmota_full_topic or DEFAULT_FULL_TOPIC
            if reader.parser_type == "tasmota" and ("%prefix%" not in full or "%topic%" not in full):
                raise ValidationError(
                    _("%(name)s: the Tasmota FullTopic must contain %%prefix%% and %%topic%%.", name=reader.name),
                )

    @api.constrains("reader_id", "active")
    def _check_not_a_machine_id(self):
        # The envelope's device_id of a badge event is the reader id: a machine with the same id
        # would mix two seq counters and make the event ambiguous.
        for reader in self.filtered("active"):
            if self.env["workshop.device"].sudo().search_count([("device_id", "=", reader.reader_id)]):
                raise ValidationError(_("Reader id %(id)r is already a machine's device id.", id=reader.reader_id))

    # ------------------------------------------------------------------ business
    def _to_config(self):
        """BadgeReaderConfig of this reader (shared/src/contracts/worker-config.ts)."""
        self.ensure_one()
        conf = {
            "reader_id": self.reader_id, "name": self.name[:128], "parser_type": self.parser_type,
            "topic": self.topic, "machine_device_id": self.device_id.device_id,
        }
        if self.parser_type == "tasmota" and self.tasmota_full_topic and self.tasmota_full_topic != DEFAULT_FULL_TOPIC:
            conf["tasmota_full_topic"] = self.tasmota_full_topic
        if self.parser_type == "generic_json" and self.card_path:
            conf["card_path"] = self.card_path
        return conf

    @api.model
    def _ingest_scope(self, worker, reader_keys):
        """``(created, forbidden)`` as ``workshop.device._ingest_scope``, for reader ids: the
        worker's own readers (archived too) with their earliest creation, and the ids only other
        workers' readers carry (refused with DEVICE_FORBIDDEN)."""
        if not reader_keys:
            return {}, set()
        self.flush_model(["reader_id", "worker_id"])
        self.env.cr.execute(SQL(
            """SELECT reader_id, bool_or(worker_id = %s), min(create_date) FILTER (WHERE worker_id = %s),
                      bool_or(worker_id IS NOT NULL AND worker_id != %s)
                 FROM workshop_badge_reader WHERE reader_id = ANY(%s) GROUP BY reader_id""",
            worker.id, worker.id, worker.id, list(reader_keys)))
        created, forbidden = {}, set()
        for key, own, first_created, others in self.env.cr.fetchall():
            if own:
                created[key] = first_created
            elif others:
                forbidden.add(key)
        return created, forbidden


class WorkshopDevice(models.Model):
    _inherit = "workshop.device"

    @api.constrains("device_id", "active")
    def _check_not_a_reader_id(self):
        # The other side of WorkshopBadgeReader._check_not_a_machine_id.
        Reader = self.env["workshop.badge.reader"].sudo()
        for device in self.filtered("active"):
            if Reader.search_count([("reader_id", "=", device.device_id)]):
                raise ValidationError(_("Device id %(id)r is already a badge reader's id.", id=device.device_id))
