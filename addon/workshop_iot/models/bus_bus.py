"""Dashboard tile notifications (``workshop_iot/device_state``) with the bus wake-up sent over the
kept connection of ``tools/pg_notify.py`` instead of a new connection to 'postgres' per transaction.

Same rows, same channels, same payloads as ``bus.bus._sendone`` (rows written at precommit, the
``imbus`` NOTIFY after COMMIT, split as Odoo splits it); every other notification type goes through
Odoo unchanged.
"""

from odoo import models
from odoo.addons.bus.models.bus import channel_with_db, get_notify_payloads, json_dump
from odoo.tools.misc import OrderedSet

from ..tools import pg_notify
from .workshop_device_live import BUS_TYPE

_VALUES = "workshop_iot.bus.values"
_CHANNELS = "workshop_iot.bus.channels"


class BusBus(models.Model):
    _inherit = "bus.bus"

    def _sendone(self, target, notification_type, message):
        if notification_type != BUS_TYPE:
            return super()._sendone(target, notification_type, message)
        cr = self.env.cr
        if _VALUES not in cr.precommit.data:
            cr.precommit.data[_VALUES] = []

            @cr.precommit.add
            def create_rows():
                self.sudo().create(cr.precommit.data.pop(_VALUES))

        if _CHANNELS not in cr.postcommit.data:
            cr.postcommit.data[_CHANNELS] = OrderedSet()

            @cr.postcommit.add
            def notify():
                pg_notify.send_bus(get_notify_payloads(list(cr.postcommit.data.pop(_CHANNELS))))

        channel = channel_with_db(cr.dbname, target)
        cr.precommit.data[_VALUES].append({
            "channel": json_dump(channel),
            "message": json_dump({"type": notification_type, "payload": message}),
        })
        cr.postcommit.data[_CHANNELS].add(channel)
        return None
