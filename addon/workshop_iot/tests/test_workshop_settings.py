"""Settings > Workshop IoT (issue 14, finding 5): every system parameter the addon reads is a
setting with today's default; saving writes the parameters the models read; bad values are refused
with a message naming the field; only administrators may write them. Plus the menus of the finding
(Configuration > Settings, Kiosk) and the empty state of the Workers list."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from ..models.workshop_event import DEFAULT_BADGE_WINDOW_S, DEFAULT_CLOCK_SKEW_S, DEFAULT_LATE_AFTER_S
from ..models.workshop_worker_health import DEFAULT_STALE_AFTER_S

# setting field -> system parameter the addon reads (grep get_param in models/)
PARAMS = {
    "workshop_timezone": "workshop_iot.timezone",
    "workshop_worker_stale_after_s": "workshop_iot.worker_stale_after_s",
    "workshop_late_event_after_s": "workshop_iot.late_event_after_s",
    "workshop_event_clock_skew_s": "workshop_iot.event_clock_skew_s",
    "workshop_badge_window_s": "workshop_iot.badge_window_s",
    "workshop_alert_user_id": "workshop_iot.alert_user_id",
    "workshop_machine_offline_alert_min": "workshop_iot.machine_offline_alert_min",
    "workshop_event_retention_days": "workshop_iot.event_retention_days",
    "workshop_event_keep_forever": "workshop_iot.event_keep_forever",
}


@tagged("post_install", "-at_install")
class TestWorkshopSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="wiot-set-manager", groups="workshop_iot.workshop_iot_group_manager")
        cls.staff = new_test_user(cls.env, login="wiot-set-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.admin = new_test_user(cls.env, login="wiot-set-admin",
                                  groups="base.group_system,workshop_iot.workshop_iot_group_manager")
        icp = cls.env["ir.config_parameter"].sudo()
        for param in PARAMS.values():
            icp.search([("key", "=", param)]).unlink()

    def settings(self, user=None):
        return self.env["res.config.settings"].with_user(user or self.admin)

    def test_every_parameter_read_by_the_addon_is_a_setting(self):
        fields = self.env["res.config.settings"]._fields
        self.assertEqual({p for p in (getattr(f, "config_parameter", None) for f in fields.values())
                          if (p or "").startswith("workshop_iot.")},
                         set(PARAMS.values()))

    def test_defaults_are_the_ones_the_models_use(self):
        form = Form(self.settings())
        self.assertFalse(form.workshop_timezone)
        self.assertEqual(form.workshop_worker_stale_after_s, DEFAULT_STALE_AFTER_S)
        self.assertEqual(form.workshop_late_event_after_s, DEFAULT_LATE_AFTER_S)
        self.assertEqual(form.workshop_event_clock_skew_s, DEFAULT_CLOCK_SKEW_S)
        self.assertEqual(form.workshop_badge_window_s, DEFAULT_BADGE_WINDOW_S)
        # Saving the untouched defaults changes nothing the models read.
        form.save().execute()
        self.assertEqual(self.env["workshop.worker"]._stale_after_s(), DEFAULT_STALE_AFTER_S)
        self.assertEqual(self.env["workshop.event"]._late_after_s(), DEFAULT_LATE_AFTER_S)
        self.assertEqual(self.env["workshop.event"]._clock_skew_s(), DEFAULT_CLOCK_SKEW_S)
        self.assertEqual(self.env["workshop.session"]._badge_window_s(), DEFAULT_BADGE_WINDOW_S)

    def test_saving_writes_the_parameters_the_models_read(self):
        form = Form(self.settings())
        form.workshop_timezone = "Europe/Berlin"
        form.workshop_worker_stale_after_s = 120
        form.workshop_late_event_after_s = 600
        form.workshop_event_clock_skew_s = 3600
        form.workshop_badge_window_s = 90
        form.workshop_alert_user_id = self.manager
        form.workshop_machine_offline_alert_min = 45
        form.workshop_event_retention_days = 30
        form.save().execute()
        icp = self.env["ir.config_parameter"].sudo()
        self.assertEqual({name: icp.get_param(param) for name, param in PARAMS.items()}, {
            "workshop_timezone": "Europe/Berlin", "workshop_worker_stale_after_s": "120",
            "workshop_late_event_after_s": "600", "workshop_event_clock_skew_s": "3600",
            "workshop_badge_window_s": "90", "workshop_alert_user_id": str(self.manager.id),
            "workshop_machine_offline_alert_min": "45", "workshop_event_retention_days": "30",
            "workshop_event_keep_forever": False})
        self.assertEqual(self.env["res.users"]._workshop_alert_default_user(), self.manager)
        self.assertEqual(self.env["workshop.device"]._offline_alert_after(), 45)
        self.assertEqual(self.env["workshop.event"]._retention_days(), 30)
        form = Form(self.settings())
        form.workshop_event_keep_forever = True
        form.save().execute()
        self.assertEqual(self.env["workshop.event"]._retention_days(), 0, "kept forever")
        self.assertEqual(self.env["workshop.session"]._badge_window_s(), 90)
        self.assertEqual(self.env["workshop.worker"]._stale_after_s(), 120)
        self.assertEqual(self.env["workshop.event"]._late_after_s(), 600)
        self.assertEqual(self.env["workshop.event"]._clock_skew_s(), 3600)
        self.assertEqual(self.env["workshop.device"]._workshop_tz().zone, "Europe/Berlin")
        # ... and the settings show what is stored.
        self.assertEqual(Form(self.settings()).workshop_worker_stale_after_s, 120)

    def test_bad_values_are_refused_naming_the_field(self):
        cases = {
            "workshop_worker_stale_after_s": (10, "Worker offline after (seconds) must be at least 30"),
            "workshop_late_event_after_s": (0, "Event late after (seconds) must be at least 1"),
            "workshop_event_clock_skew_s": (-5, "Allowed worker clock skew (seconds) must be at least 1"),
            "workshop_event_retention_days": (0, "Keep events (days) must be at least 1"),
            "workshop_machine_offline_alert_min": (-3, "Machine offline alert after (minutes) cannot be negative"),
        }
        for name, (value, message) in cases.items():
            with self.subTest(field=name), self.assertRaises(ValidationError) as caught:
                self.settings().create({name: value})
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.settings().create({"workshop_timezone": "Mars/Olympus_Mons"})
        self.assertIn("Workshop timezone: 'Mars/Olympus_Mons' is not a timezone", str(caught.exception))
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param("workshop_iot.worker_stale_after_s"))

    def test_non_admins_cannot_write_the_settings(self):
        for user in (self.manager, self.staff):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.settings(user).create({"workshop_worker_stale_after_s": 60}).execute()
                with self.assertRaises(AccessError):
                    self.env["ir.config_parameter"].with_user(user).set_param("workshop_iot.worker_stale_after_s", "60")
        self.assertFalse(self.env["ir.config_parameter"].sudo().get_param("workshop_iot.worker_stale_after_s"))

    def test_settings_menu_is_for_administrators(self):
        menu = self.env.ref("workshop_iot.workshop_iot_settings_menu")
        self.assertEqual(menu.parent_id, self.env.ref("workshop_iot.workshop_iot_config_menu"))
        self.assertEqual(menu.action, self.env.ref("workshop_iot.workshop_iot_settings_action"))
        self.assertEqual(menu.action.context, "{'module': 'workshop_iot', 'bin_size': False}")
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.admin)._visible_menu_ids())
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids())

    def test_kiosk_has_its_own_menu_for_workshop_users(self):
        menu = self.env.ref("workshop_iot.dashboard_kiosk_menu")
        self.assertEqual(menu.parent_id, self.env.ref("workshop_iot.menu_root"))
        self.assertEqual(menu.action, self.env.ref("workshop_iot.dashboard_kiosk_action"))
        self.assertEqual(menu.action.tag, "workshop_iot.dashboard")
        self.assertIn("'kiosk': True", menu.action.context)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.staff)._visible_menu_ids())

    def test_workers_empty_state_describes_the_real_steps(self):
        help_text = self.env.ref("workshop_iot.workshop_worker_action").help
        self.assertNotIn("register themselves", help_text)
        for step in ("Connect a worker", "Generate worker token", "Generate Odoo API key", ".env", "Online"):
            self.assertIn(step, help_text)

    def test_session_review_filter_has_the_field_label(self):
        label = self.env["workshop.session"]._fields["needs_review"].string
        arch = self.env.ref("workshop_iot.workshop_session_view_search").arch
        self.assertIn('name="needs_review" string="%s"' % label, arch)
