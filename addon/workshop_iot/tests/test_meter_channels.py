"""Issue 15: several machines on one meter (channels, phases), the form showing channel/phase only
for meters that have them, and generic meters publishing a bare number."""

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import WorkshopIotCase

PRO_4PM = "shellypro4pm-30c6f78400e8"
PRO_3EM = "shellypro3em-0cb815fc1234"


@tagged("post_install", "-at_install")
class TestMeterChannels(WorkshopIotCase):
    def _machine(self, device_id, topic, **vals):
        base = {"name": device_id, "device_id": device_id, "topic": topic, "worker_id": self.worker.id}
        return self.env["workshop.device"].create(dict(base, **vals))

    def test_two_machines_on_two_channels_of_one_meter(self):
        saw = self._machine("saw", PRO_4PM, channel=0)
        lathe = self._machine("lathe", PRO_4PM, channel=2)
        self.assertEqual([saw._to_config().get("channel"), lathe._to_config()["channel"]], [None, 2])

    def test_phases_of_one_three_phase_meter(self):
        self._machine("compressor", PRO_3EM)  # phase total
        drill = self._machine("drill", PRO_3EM, phase="a")
        self._machine("grinder", PRO_3EM, phase="b")
        self.assertEqual(drill._to_config()["phase"], "a")

    def test_same_channel_and_phase_twice_is_refused(self):
        self._machine("saw", PRO_4PM, channel=2)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._machine("lathe", PRO_4PM, channel=2)
        self._machine("drill", PRO_3EM, phase="a")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._machine("grinder", PRO_3EM, phase="a")

    def test_archived_machine_frees_its_channel(self):
        saw = self._machine("saw", PRO_4PM, channel=1)
        saw.action_archive()
        self.env.flush_all()
        self.assertTrue(self._machine("saw2", PRO_4PM, channel=1))

    def test_channel_out_of_range_is_refused(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._machine("saw", PRO_4PM, channel=16)

    def test_generic_meter_with_a_bare_number(self):
        """Zigbee2MQTT attribute output / ESPHome: no power path, the worker reads the number."""
        plug = self._machine("plug", "zigbee2mqtt/Office Wall Plug/power", parser_type="generic_json")
        self.assertEqual(plug._to_config()["generic"], {"unit": "W"})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            plug.generic_energy_path = "energy"


@tagged("post_install", "-at_install")
class TestMeterForm(WorkshopIotCase):
    def test_channel_and_phase_visible_only_for_meters_that_have_them(self):
        visible = {
            "shelly_gen2": {"channel", "phase"},
            "shelly_gen1": {"channel", "phase"},
            "tasmota": {"channel", "tasmota_full_topic"},
            "generic_json": set(),
        }
        for parser, expected in visible.items():
            with self.subTest(parser=parser):
                form = Form(self.env["workshop.device"])
                form.parser_type = parser
                shown = {
                    name for name in ("channel", "phase", "tasmota_full_topic")
                    if not form._get_modifier(name, "invisible")
                }
                self.assertEqual(shown, expected)

    def test_help_says_where_to_find_the_channel(self):
        help_text = self.env["workshop.device"]._fields["channel"].help
        for hint in ("switch:N", "web UI", "Power1"):
            self.assertIn(hint, help_text)
