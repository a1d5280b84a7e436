"""Device id and topic are typed once (issue 14, finding 6): for Shelly Gen2/Gen3, Shelly Gen1 and
Tasmota the form fills the MQTT topic from the device id (the id itself; Gen1's parser adds
``shellies/``) while the topic has not been typed by hand; it stays editable. Generic JSON meters
keep their own topic."""

from odoo.tests import Form, tagged

from .common import WorkshopIotCase


@tagged("post_install", "-at_install")
class TestDeviceTopicFromId(WorkshopIotCase):
    def new_form(self, parser_type):
        form = Form(self.env["workshop.device"])
        form.name = "Bench"
        form.parser_type = parser_type
        return form

    def test_topic_follows_the_device_id_for_shelly_and_tasmota(self):
        for parser_type in ("shelly_gen2", "shelly_gen1", "tasmota"):
            with self.subTest(parser_type=parser_type):
                form = self.new_form(parser_type)
                form.device_id = "bench-%s-1" % parser_type
                self.assertEqual(form.topic, "bench-%s-1" % parser_type)
                form.device_id = "bench-%s" % parser_type  # a corrected id: the topic follows again
                self.assertEqual(form.topic, "bench-%s" % parser_type)
                device = form.save()
                self.assertEqual(device.topic, "bench-%s" % parser_type)

    def test_a_channel_machine_id_gives_the_meters_topic(self):
        # Machine on channel 2 of a Pro 4PM: the id names the channel, the meter publishes under its id.
        form = self.new_form("shelly_gen2")
        form.device_id = "shellypro4pm-30c6f78400e8:2"
        self.assertEqual(form.topic, "shellypro4pm-30c6f78400e8")
        form.channel = 2
        self.assertEqual(form.save().topic, "shellypro4pm-30c6f78400e8")

    def test_a_topic_typed_by_hand_is_kept(self):
        form = self.new_form("shelly_gen2")
        form.device_id = "shellyplus1pm-a8032ab1"
        form.topic = "hall/shellyplus1pm-a8032ab1"
        form.device_id = "shellyplus1pm-a8032ab2"
        self.assertEqual(form.topic, "hall/shellyplus1pm-a8032ab1")
        self.assertEqual(form.save().topic, "hall/shellyplus1pm-a8032ab1")

    def test_an_existing_device_with_its_own_topic_keeps_it(self):
        self.assertNotEqual(self.device.topic, self.device.device_id)
        form = Form(self.device)
        form.device_id = "shelly-laser-2"
        self.assertEqual(form.topic, "shellyplus1pm-laser")

    def test_an_existing_device_whose_topic_is_its_id_follows(self):
        device = self.env["workshop.device"].create(
            {"name": "Saw", "device_id": "tasmota-saw", "topic": "tasmota-saw", "parser_type": "tasmota"})
        form = Form(device)
        form.device_id = "tasmota-saw-2"
        self.assertEqual(form.save().topic, "tasmota-saw-2")

    def test_generic_json_topic_is_not_derived(self):
        form = self.new_form("generic_json")
        form.device_id = "office-plug"
        self.assertFalse(form.topic)
        form.topic = "zigbee2mqtt/Office plug"
        form.generic_field_path = "power"
        self.assertEqual(form.save().topic, "zigbee2mqtt/Office plug")
