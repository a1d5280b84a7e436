"""Dashboard bus channels: a workshop user's websocket listens to the dashboard channel of each
company the user is allowed in, and to no other (``workshop_device_live._notify_live_state``)."""

from odoo import models

from .workshop_device_live import DASHBOARD_SUBCHANNEL, USER_GROUP


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        channels = super()._build_bus_channel_list(channels)
        user = self.env.user
        # Public and portal users have no dashboard; a user of the group reads the tiles of the
        # machines of their allowed companies (the same companies the record rules let them read).
        if user and not user._is_public() and user.has_group(USER_GROUP):
            channels.extend((company, DASHBOARD_SUBCHANNEL) for company in user.company_ids)
        return channels
