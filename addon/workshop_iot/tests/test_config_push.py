from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from ..schema import generated
from ..tools import config_push
from .common import WorkshopIotCase, apply_ok, mock_worker, unreachable

WORKER_LOGGER = "odoo.addons.workshop_iot.models.workshop_worker"


@tagged("post_install", "-at_install")
class TestConfigBuilding(WorkshopIotCase):
    def test_config_validates_for_every_parser_type(self):
        self.env["workshop.device"].create([
            {"name": "Gen1 plug", "device_id": "shelly1pm-01", "topic": "shellies/shelly1pm-01",
             "parser_type": "shelly_gen1", "worker_id": self.worker.id},
            {"name": "Generic", "device_id": "meter:7", "topic": "factory/meter7", "parser_type": "generic_json",
             "generic_field_path": "ENERGY.Power", "generic_unit": "kW", "generic_energy_path": "ENERGY.Total",
             "generic_energy_unit": "kWh", "worker_id": self.worker.id},
        ])
        self.broker.write({"username": "wiot", "password": "secret", "tls_ca": "-----BEGIN CERTIFICATE-----",
                           "tls_insecure": True})
        config = self.worker._build_config()
        self.assertEqual({d["parser_type"] for d in config["devices"]},
                         {"shelly_gen2", "shelly_gen1", "tasmota", "generic_json"})
        self.assertEqual(generated.validate_worker_config(config), [])
        self.assertEqual(generated.validate_config_apply_params({"config": config}), [])
        generic = next(d for d in config["devices"] if d["parser_type"] == "generic_json")
        self.assertEqual(generic["generic"]["unit"], "kW")
        self.assertNotIn("generic", next(d for d in config["devices"] if d["parser_type"] == "tasmota"))
        self.assertEqual(config["broker"]["password"], "secret")
        self.assertNotIn("billing_unit_minutes", str(config), "billing is Odoo-only")

    def test_negative_noise_band_reaches_the_worker(self):
        """Issue 13 finding 2: the per-meter noise band is part of DeviceConfig (top level, beside
        'generic'), defaults to 1 W, and a change pushes the config."""
        self.assertEqual(self.device._to_config()["negative_noise_w"], 1.0)
        self.env.cr.postcommit.clear()
        self.device.negative_noise_w = 5.0
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        config = self.worker._build_config()
        self.assertEqual(config["devices"][0]["negative_noise_w"], 5.0)
        self.assertEqual(generated.validate_worker_config(config), [])
        for bad in (-1.0, 1000.5):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.device.negative_noise_w = bad

    def test_embedded_broker_and_archived_devices(self):
        self.worker.broker_id = False
        self.device2.active = False
        config = self.worker._build_config()
        self.assertEqual(config["broker"], {"url": None})
        self.assertEqual([d["device_id"] for d in config["devices"]], ["shelly-laser"])
        self.assertEqual(generated.validate_worker_config(config), [])

    def test_hello_returns_config_only_when_newer(self):
        hello = {"worker_uid": "wk-test", "software_version": "0.1.0", "started_at": "2026-01-01T00:00:00Z"}
        model = self.env["workshop.worker"].with_user(self.worker_user).sudo()
        result = model._rpc_hello(dict(hello, config_version=0))
        self.assertEqual(generated.validate_worker_hello_result(result), [])
        self.assertEqual(result["config"]["version"], self.worker.config_version)
        result = model._rpc_hello(dict(hello, config_version=self.worker.config_version))
        self.assertIsNone(result["config"])
        self.assertTrue(self.worker.config_in_sync)

    def test_hello_jumps_past_a_worker_that_is_ahead(self):
        model = self.env["workshop.worker"].with_user(self.worker_user).sudo()
        result = model._rpc_hello({"worker_uid": "wk-test", "software_version": "0.1.0", "config_version": 500,
                                   "started_at": "2026-01-01T00:00:00Z"})
        self.assertEqual(result["config_version"], 501)
        self.assertEqual(result["config"]["version"], 501)

    def test_hello_registers_unknown_worker_bound_to_caller(self):
        # A user without a worker yet (the policy: tests/test_rpc_registration.py).
        newcomer = new_test_user(self.env, login="wiot-newcomer", groups="workshop_iot.workshop_iot_group_worker")
        model = self.env["workshop.worker"].with_user(newcomer).sudo()
        result = model._rpc_hello({"worker_uid": "wk-new", "software_version": "0.1.0", "config_version": 0,
                                   "started_at": "2026-01-01T00:00:00Z", "http_url": "http://10.0.0.5:8787"})
        worker = self.env["workshop.worker"].browse(result["worker_id"])
        self.assertEqual((worker.worker_uid, worker.user_id, worker.url), ("wk-new", newcomer, "http://10.0.0.5:8787"))
        self.assertFalse(config_push.pending(self.env), "hello answers with the config itself")


@tagged("post_install", "-at_install")
class TestConfigPushHooks(WorkshopIotCase):
    def test_relevant_change_queues_push_after_commit_only(self):
        version = self.worker.config_version
        with mock_worker(apply_ok) as calls:
            self.device.write({"standby_threshold_w": 8.0})
            self.assertEqual(calls, [], "nothing is sent before the commit")
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        self.assertEqual(self.worker.config_version, version + 1)
        self.assertEqual(self.worker.push_state, "pending")

    def test_irrelevant_changes_queue_nothing(self):
        version = self.worker.config_version
        self.device.write({"billing_unit_minutes": 30, "billing_price_unit": 3.0})
        self.device._set_live({"live_state": "working", "live_power_w": 300.0,
                               "live_changed_at": fields.Datetime.now()})
        self.assertFalse(config_push.pending(self.env))
        self.assertEqual(self.worker.config_version, version)

    def test_moving_a_device_pushes_both_workers(self):
        other = self.env["workshop.worker"].create({"name": "Other", "worker_uid": "wk-other", "url": "http://o:1",
                                                    "last_hello_at": fields.Datetime.now()})
        self.env.cr.postcommit.clear()
        self.device.worker_id = other
        self.assertEqual(config_push.pending(self.env), {self.worker.id, other.id})

    def test_a_worker_that_never_said_hello_is_not_pushed_to(self):
        # Just created in "Connect a worker", not running yet: it pulls its config on hello.
        new = self.env["workshop.worker"].create({"name": "New", "worker_uid": "wk-new", "url": "http://n:1"})
        self.env.cr.postcommit.clear()
        version = new.config_version
        self.device.worker_id = new
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        self.assertEqual(new.config_version, version + 1, "the version still moves: hello pulls the new one")
        self.assertEqual(new.push_state, "none")
        new.last_hello_at = fields.Datetime.now()  # its first hello
        self.env.cr.postcommit.clear()
        self.device.write({"standby_threshold_w": 7.0})
        self.assertEqual(config_push.pending(self.env), {new.id})
        self.assertEqual(new.push_state, "pending")

    def test_broker_change_archive_and_unlink_push(self):
        self.broker.url = "mqtts://broker.test:8883"
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        self.env.cr.postcommit.clear()
        self.device.action_archive()
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        self.env.cr.postcommit.clear()
        self.device2.unlink()
        self.assertEqual(config_push.pending(self.env), {self.worker.id})

    def test_postcommit_hook_starts_the_push_thread(self):
        self.device.write({"name": "Laser 2"})
        with patch.object(config_push, "spawn") as spawn:
            self.env.cr.postcommit.run()  # what the commit would do
        spawn.assert_called_once_with(config_push.push_in_new_transactions, self.env.cr.dbname, [self.worker.id])

    def test_push_success_is_recorded(self):
        with mock_worker(apply_ok) as calls:
            failed = self.worker._push_config()
        self.assertFalse(failed)
        url, method, params, headers = calls[0]
        self.assertEqual((url, method), ("http://worker.test:8787/rpc", "config.apply"))
        self.assertEqual(headers["Authorization"], "Bearer " + "t" * 32)
        self.assertEqual(generated.validate_config_apply_params(params), [])
        self.assertEqual((self.worker.push_state, self.worker.applied_config_version),
                         ("ok", self.worker.config_version))

    def test_push_failure_is_visible_and_retried_by_cron_with_backoff(self):
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            self.worker._push_config()
        self.assertIn("Config push to worker wk-test failed (attempt 1)", logs.output[0])
        self.assertEqual(self.worker.push_state, "retry")
        self.assertEqual(self.worker.push_attempts, 1)
        self.assertIn("Cannot reach the worker", self.worker.push_error)
        self.assertIn("ConnectionError", self.worker.push_error_detail)
        self.assertTrue(self.worker.push_next_at > fields.Datetime.now())
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            self.worker._push_config()
        self.assertIn("(attempt 2)", logs.output[0])
        self.assertEqual(self.worker.push_attempts, 2)
        self.worker.push_next_at = fields.Datetime.now()
        with mock_worker(apply_ok) as calls:
            self.env["workshop.worker"]._cron_retry_config_push()
        self.assertEqual(len(calls), 1)
        self.assertEqual((self.worker.push_state, self.worker.push_attempts), ("ok", 0))
        self.assertEqual(config_push.backoff_s(1), 30)
        self.assertEqual(config_push.backoff_s(20), 3600)

    def test_worker_rejection_keeps_field_errors_message(self):
        def reject(method, params):
            return {"error": {"code": -32602, "message": "Invalid config", "data": {"errors": []}}}

        with mock_worker(reject), self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            self.worker._push_config()
        self.assertIn("Invalid config", logs.output[0])
        self.assertIn("Invalid config", self.worker.push_error)

    def test_push_button_notifies(self):
        with mock_worker(apply_ok):
            action = self.device.with_user(self.manager).action_push_config()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, level="WARNING") as logs:
            action = self.device.with_user(self.manager).action_push_config()
        self.assertIn("Config push to worker wk-test failed", logs.output[0])
        self.assertEqual(action["params"]["type"], "danger")
