from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WorkshopIotCase


@tagged("post_install", "-at_install")
class TestConstraints(WorkshopIotCase):
    def _device(self, **vals):
        base = {"name": "Saw", "device_id": "shelly-saw", "topic": "shelly-saw", "worker_id": self.worker.id}
        return self.env["workshop.device"].create(dict(base, **vals))

    def test_device_id_unique_among_active_devices(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._device(device_id="shelly-laser")
        self.device.action_archive()
        self.env.flush_all()  # the archive must reach the table before the INSERT is checked
        self.assertTrue(self._device(device_id="shelly-laser", topic="other"))

    def test_topic_unique_among_active_devices(self):
        # Same topic, same (default) channel and phase as self.device.
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._device(topic="shellyplus1pm-laser")

    def test_working_threshold_above_standby(self):
        with self.assertRaises(ValidationError):
            self.device.write({"working_threshold_w": 5.0, "standby_threshold_w": 5.0})

    def test_session_timings_positive(self):
        for vals in ({"start_debounce_s": -1}, {"message_timeout_s": 0}, {"heartbeat_interval_s": 2},
                     {"billing_unit_minutes": 0}, {"billing_min_units": -1}, {"standby_threshold_w": -1.0}):
            with self.assertRaises(ValidationError, msg=str(vals)), self.env.cr.savepoint():
                self.device.write(vals)

    def test_identifier_patterns(self):
        for vals in ({"device_id": "bad id"}, {"topic": "shellies/+/power"}):
            with self.assertRaises(ValidationError, msg=str(vals)), self.env.cr.savepoint():
                self.device.write(vals)
        with self.assertRaises(ValidationError):
            self.worker.worker_uid = "no spaces allowed"

    def test_topic_rule_is_the_shared_schema_one(self):
        """Issue 12 finding 10: a topic with a control character made mosquitto drop the worker's
        connection on subscribe; the form refuses it with the shared rule. Spaces are valid MQTT
        (Zigbee2MQTT friendly names)."""
        for bad in ("hall/\x01saw", "hall/saw\x00", "hall/\x7f", "hall/\x85", "hall/\ufffe", "a/#", "a/+/b"):
            with self.assertRaises(ValidationError, msg=repr(bad)), self.env.cr.savepoint():
                self.device.topic = bad
        self.device.topic = "zigbee2mqtt/Office Wall Light Switch"
        self.assertEqual(self.device.topic, "zigbee2mqtt/Office Wall Light Switch")

    def test_generic_json_field_path_is_a_dotted_path_or_empty(self):
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self._device(parser_type="generic_json", generic_field_path=".power")
        self.assertTrue(self._device(parser_type="generic_json", topic="esphome/sensor/saw_power/state"))

    def test_broker_url_and_timings(self):
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.broker.url = "http://not-mqtt"
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.broker.write({"reconnect_min_ms": 5000, "reconnect_max_ms": 1000})
        self.broker.write({"embedded": True, "url": False})

    def test_session_durations_checked_by_the_database(self):
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device, 1, uid)])
        session = self.session(uid)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            session.write({"working_s": -1.0})
            session.flush_recordset()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            session.write({"working_s": 50.0, "standby_s": 50.0, "total_s": 60.0})
            session.flush_recordset()


@tagged("post_install", "-at_install")
class TestSecurity(WorkshopIotCase):
    def test_secrets_are_admin_only(self):
        worker = self.worker.with_user(self.manager)
        with self.assertRaises(AccessError):
            worker.read(["token"])
        with self.assertRaises(AccessError):
            self.broker.with_user(self.manager).read(["password"])
        self.assertTrue(worker.token_set)

    def test_write_only_token(self):
        self.worker.new_token = "n" * 30
        self.assertEqual(self.worker.token, "n" * 30)
        self.worker.invalidate_recordset(["new_token"])
        self.assertFalse(self.worker.new_token, "the token is never displayed back")
        with self.assertRaises(ValidationError):
            self.worker.new_token = "short"

    def test_staff_reads_but_does_not_edit(self):
        device = self.device.with_user(self.staff)
        self.assertEqual(device.name, "Laser")
        with self.assertRaises(AccessError):
            device.write({"name": "x"})
        with self.assertRaises(AccessError):
            self.env["workshop.broker"].with_user(self.staff).search([])
        with self.assertRaises(AccessError):
            self.env["workshop.event"].with_user(self.staff).search([])

    def test_integration_user_has_no_model_access(self):
        for model in ("workshop.device", "workshop.session", "workshop.worker", "workshop.event"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.worker_user).search([])

    def test_event_log_is_append_only(self):
        self.ingest_and_fold([self.events.started(self.device, 1, self.new_session())])
        event = self.env["workshop.event"].search([], limit=1)
        with self.assertRaises(AccessError):
            event.with_user(self.manager).write({"seq": 5})
        with self.assertRaises(AccessError):
            event.with_user(self.manager).unlink()

    def test_generate_api_key_and_token(self):
        worker = self.env["workshop.worker"].create({"name": "Fresh", "worker_uid": "wk-fresh"})
        action = worker.action_generate_api_key()
        key = action["context"]["default_secret"]
        self.assertTrue(worker.user_id.has_group("workshop_iot.workshop_iot_group_worker"))
        self.assertFalse(worker.user_id.has_group("base.group_user"))
        uid = self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key)
        self.assertEqual(uid, worker.user_id.id)
        action = worker.action_generate_token()
        self.assertEqual(worker.token, action["context"]["default_secret"])
