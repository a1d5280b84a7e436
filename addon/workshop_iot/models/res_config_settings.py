"""Settings > Workshop IoT: the addon's system parameters, with the defaults the code falls back to.

Each field is a ``config_parameter`` field, so saving writes ``ir.config_parameter`` and the models
keep reading the parameter (a value set under *Technical > System Parameters* still works). The
settings model is administrators only (Odoo's own access rule on ``res.config.settings``); the
checks below refuse values the readers would ignore or clamp, with the field's label in the message.
"""

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from .workshop_device_alerts import DEFAULT_OFFLINE_AFTER_MIN
from .workshop_event import DEFAULT_BADGE_WINDOW_S, DEFAULT_CLOCK_SKEW_S, DEFAULT_LATE_AFTER_S
from .workshop_event_retention import DEFAULT_RETENTION_DAYS
from .workshop_worker_health import DEFAULT_STALE_AFTER_S, MIN_STALE_AFTER_S

# field -> smallest accepted value (seconds). 0 is not accepted: Odoo stores 0 as "no parameter",
# which would silently bring the default back.
MINIMUMS = {
    "workshop_worker_stale_after_s": MIN_STALE_AFTER_S,
    "workshop_late_event_after_s": 1,
    "workshop_event_clock_skew_s": 1,
    "workshop_badge_window_s": 1,
    "workshop_event_retention_days": 1,
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    workshop_timezone = fields.Selection(
        _tz_get, string="Workshop timezone", config_parameter="workshop_iot.timezone",
        help="When the workshop day starts for the dashboard's 'today' totals. Empty: the company's "
             "timezone, else UTC.")
    workshop_worker_stale_after_s = fields.Integer(
        string="Worker offline after (seconds)", config_parameter="workshop_iot.worker_stale_after_s",
        default=DEFAULT_STALE_AFTER_S,
        help="A worker silent this long (no hello, report or health answer) is shown offline, and its "
             "running sessions may be closed by Odoo. At least %s." % MIN_STALE_AFTER_S)
    workshop_late_event_after_s = fields.Integer(
        string="Event late after (seconds)", config_parameter="workshop_iot.late_event_after_s",
        default=int(DEFAULT_LATE_AFTER_S),
        help="Events received this long after they occurred are flagged late; their sessions are "
             "marked to review.")
    workshop_event_clock_skew_s = fields.Integer(
        string="Allowed worker clock skew (seconds)", config_parameter="workshop_iot.event_clock_skew_s",
        default=DEFAULT_CLOCK_SKEW_S,
        help="How far a worker's clock may differ from Odoo's: an event further in the future, or "
             "before its machine was created, is refused (EVENT_TIME_OUT_OF_RANGE).")

    workshop_badge_window_s = fields.Integer(
        string="Badge before a session (seconds)", config_parameter="workshop_iot.badge_window_s",
        default=DEFAULT_BADGE_WINDOW_S,
        help="A badge presented while the machine is off attributes the next session that starts on it "
             "within this many seconds.")

    workshop_alert_user_id = fields.Many2one(
        "res.users", string="Responsible for alerts", config_parameter="workshop_iot.alert_user_id",
        help="Receives the alerts (activities) of workers, of machines without a responsible of their own or "
             "of their area, and the digest of sessions to review. Empty: the administrator.")
    workshop_machine_offline_alert_min = fields.Integer(
        string="Machine offline alert after (minutes)", config_parameter="workshop_iot.machine_offline_alert_min",
        default=DEFAULT_OFFLINE_AFTER_MIN,
        help="A machine offline this long raises an alert (at once when it went offline during a session).")
    workshop_event_retention_days = fields.Integer(
        string="Keep events (days)", config_parameter="workshop_iot.event_retention_days",
        default=DEFAULT_RETENTION_DAYS,
        help="Processed events older than this are purged every night, except those of sessions not yet billed "
             "or waiting for review. At least 1.")
    workshop_event_keep_forever = fields.Boolean(
        string="Keep events forever", config_parameter="workshop_iot.event_keep_forever",
        help="Never purge the event log.")

    @api.constrains("workshop_machine_offline_alert_min")
    def _check_workshop_alert_settings(self):
        for settings in self:
            if settings.workshop_machine_offline_alert_min < 0:
                raise ValidationError(_("%(field)s cannot be negative (got %(value)s).",
                                        field=self._fields["workshop_machine_offline_alert_min"].string,
                                        value=settings.workshop_machine_offline_alert_min))

    @api.constrains(*MINIMUMS)
    def _check_workshop_minimums(self):
        for settings in self:
            for name, minimum in MINIMUMS.items():
                if settings[name] < minimum:
                    raise ValidationError(_(
                        "%(field)s must be at least %(minimum)s seconds (got %(value)s).",
                        field=self._fields[name].string, minimum=minimum, value=settings[name]))

    @api.constrains("workshop_timezone")
    def _check_workshop_timezone(self):
        # The selection lists the timezones, but a value sent over RPC is not checked against it.
        for settings in self.filtered("workshop_timezone"):
            if settings.workshop_timezone not in pytz.all_timezones_set:
                raise ValidationError(_(
                    "%(field)s: %(value)r is not a timezone.",
                    field=self._fields["workshop_timezone"].string, value=settings.workshop_timezone))
