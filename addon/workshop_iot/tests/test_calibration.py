"""Calibrate a machine (issue 18): the dialog calls the worker's analysis.run over real HTTP (a fake
worker on a local port), shows both session lists with billing units under the machine's policy,
re-runs with the edited values, applies them with the normal config push, managers only, and turns
every worker problem into a readable message."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from ..tools import config_push
from ..tools.timeutil import parse_wire_ts
from .calibration_common import CURRENT, PROPOSED, analysis_result
from .common import WorkshopIotCase
from .fake_worker_http import FakeWorkerServer, RpcError, config_apply, free_port

LOGGER = "odoo.addons.workshop_iot.models.workshop_device_calibration"


@tagged("post_install", "-at_install")
class TestCalibration(WorkshopIotCase):
    def _open(self, fake, user=None):
        self.worker.url = fake.url if fake else "http://127.0.0.1:%s" % free_port()
        self.env.cr.postcommit.clear()
        action = self.device.with_user(user or self.manager).action_calibrate()
        self.assertEqual((action["res_model"], action["target"]), ("workshop.device.calibration", "new"))
        return self.env["workshop.device.calibration"].with_user(user or self.manager).browse(action["res_id"])

    def test_opens_with_the_workers_proposal_and_both_session_lists_billed_by_the_machine(self):
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            wizard = self._open(fake)
        self.assertEqual(fake.methods(), ["analysis.run"])
        params, headers = fake.calls[0][1], fake.calls[0][2]
        self.assertEqual(headers["Authorization"], "Bearer " + "t" * 32)
        self.assertEqual(params["device_id"], "shelly-laser")
        self.assertNotIn("candidate", params)
        span = parse_wire_ts(params["to"]) - parse_wire_ts(params["from"])
        self.assertEqual(span, timedelta(days=7), "the default range is the last 7 days")
        self.assertFalse(wizard.error_message)
        self.assertEqual(wizard.readings, 5400)
        self.assertEqual(len(wizard.chart_data["bins"]), 4)
        self.assertEqual({n: wizard["current_" + n] for n in CURRENT}, CURRENT)
        self.assertEqual({n: wizard["proposed_" + n] for n in PROPOSED}, PROPOSED)
        self.assertIn("15 s spikes", wizard.explanation)
        # 15 min units rounded up on working time: 1000 s -> 2, 300 s -> 1, 100 s (open) -> 1.
        self.assertEqual(wizard.current_session_ids.mapped("billing_units"), [2, 1, 1])
        self.assertEqual(wizard.current_session_ids.mapped("side"), ["current"] * 3)
        self.assertEqual((wizard.current_count, wizard.current_units), (3, 4))
        self.assertEqual(wizard.proposed_session_ids.mapped("billing_units"), [3])
        self.assertEqual((wizard.proposed_count, wizard.proposed_units), (1, 3))
        self.assertFalse(wizard.current_session_ids[2].ended_at)
        self.assertEqual(wizard.current_session_ids[2].reason, "open")
        self.assertAlmostEqual(wizard.proposed_working_hours, 2000 / 3600)
        # The machine's own policy, not a second formula: a 5 min unit on working + standby time.
        self.device.write({"billing_unit_minutes": 5, "billing_basis": "working_standby"})
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            wizard = self._open(fake)
        self.assertEqual(wizard.current_session_ids.mapped("billing_units"), [4, 2, 1])
        self.assertEqual(wizard.proposed_units, 8)

    def test_presets_set_the_range(self):
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            wizard = self._open(fake)
            wizard.period = "24h"
            wizard._onchange_period()
            self.assertEqual(wizard.date_to - wizard.date_from, timedelta(hours=24))
            wizard.action_run()
            wizard.period = "30d"
            wizard._onchange_period()
            wizard.action_run()
        spans = [parse_wire_ts(c[1]["to"]) - parse_wire_ts(c[1]["from"]) for c in fake.calls]
        self.assertEqual(spans, [timedelta(days=7), timedelta(hours=24), timedelta(days=30)])

    def test_rerun_sends_the_edited_values_as_candidate_and_refreshes_the_lists(self):
        def answer(params):
            result = analysis_result(params)
            if params.get("candidate"):
                result["proposed"]["sessions"] = result["current"]["sessions"][:2]
            return result

        with FakeWorkerServer({"analysis.run": answer}) as fake:
            wizard = self._open(fake)
            wizard.write({"proposed_working_threshold_w": 80.0, "proposed_stop_debounce_s": 45})
            wizard.action_rerun()
        self.assertEqual(fake.calls[1][1]["candidate"], dict(PROPOSED, working_threshold_w=80.0, stop_debounce_s=45))
        self.assertEqual((wizard.proposed_working_threshold_w, wizard.proposed_stop_debounce_s), (80.0, 45))
        self.assertEqual(wizard.proposed_session_ids.mapped("billing_units"), [2, 1])
        self.assertEqual(wizard.proposed_units, 3)
        self.assertEqual(len(wizard.current_session_ids), 3, "the current side is replaced, not doubled")

    def test_invalid_proposed_values_are_refused_like_the_machine_form(self):
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            wizard = self._open(fake)
            wizard.write({"proposed_standby_threshold_w": 200.0, "proposed_working_threshold_w": 100.0})
            with self.assertRaisesRegex(ValidationError, "0 <= standby < working"):
                wizard.action_rerun()
            with self.assertRaisesRegex(ValidationError, "0 <= standby < working"):
                wizard.action_apply()
            wizard.write({"proposed_standby_threshold_w": 10.0, "proposed_message_timeout_s": 2})
            with self.assertRaisesRegex(ValidationError, "between 5 and 86400 s"):
                wizard.action_apply()
        self.assertEqual(fake.methods(), ["analysis.run"], "nothing invalid reached the worker")
        self.assertEqual(self.device.working_threshold_w, 50.0)

    def test_apply_writes_the_machine_and_the_normal_config_push_follows(self):
        with FakeWorkerServer({"analysis.run": analysis_result, "config.apply": config_apply}) as fake:
            wizard = self._open(fake)
            version = self.worker.config_version
            wizard.proposed_heartbeat_interval_s = 120
            action = wizard.action_apply()
            self.assertEqual(action["type"], "ir.actions.act_window_close")
            self.assertEqual({n: self.device[n] for n in PROPOSED}, dict(PROPOSED, heartbeat_interval_s=120))
            self.assertEqual(config_push.pending(self.env), {self.worker.id}, "queued for after the commit")
            self.assertEqual(self.worker.config_version, version + 1)
            self.assertEqual(fake.methods(), ["analysis.run"], "nothing is pushed before the commit")
            self.worker._push_config()  # what the post-commit thread does
        self.assertEqual(fake.methods(), ["analysis.run", "config.apply"])
        pushed = next(d for d in fake.calls[1][1]["config"]["devices"] if d["device_id"] == "shelly-laser")
        self.assertEqual(pushed["session_config"], dict(PROPOSED, heartbeat_interval_s=120))

    def test_managers_only_checked_on_the_server(self):
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            self.worker.url = fake.url
            with self.assertRaises(AccessError):
                self.device.with_user(self.staff).action_calibrate()
            wizard = self._open(fake)
            for action in ("action_run", "action_rerun", "action_apply"):
                with self.subTest(action=action), self.assertRaises(AccessError):
                    getattr(wizard.with_user(self.staff), action)()
        self.assertEqual(fake.methods(), ["analysis.run"])

    def test_unreachable_worker_is_a_clear_message_in_the_dialog(self):
        wizard = self._open(None)
        self.assertIn("connection refused", wizard.error_message)
        self.assertIn("is it running", wizard.error_message)
        self.assertFalse(wizard.chart_data)
        self.assertFalse(wizard.current_session_ids)

    def test_malformed_answer_is_a_clear_message_and_a_warning(self):
        def broken(params):
            result = analysis_result(params)
            result["histogram"][0]["count"] = -1
            return result

        with FakeWorkerServer({"analysis.run": broken}) as fake, self.assertLogs(LOGGER, "WARNING") as logs:
            wizard = self._open(fake)
        self.assertIn("unexpected analysis.run answer at /histogram/0/count", logs.output[0])
        self.assertIn("does not understand (at /histogram/0/count", wizard.error_message)
        self.assertFalse(wizard.chart_data)

    def test_worker_refusals_are_readable(self):
        def unknown_device(params):
            raise RpcError(-32013, "DEVICE_NOT_FOUND", "No configured device shelly-laser")

        def no_recording(params):
            raise RpcError(-32014, "RECORDING_UNAVAILABLE", "The recording is not available on this worker: "
                           "no recording store is configured", reason="not_configured")

        def invalid(params):
            raise RpcError(-32602, "INVALID_PARAMS", "Invalid params: 1 field error(s)")

        with FakeWorkerServer({"analysis.run": unknown_device}) as fake:
            wizard = self._open(fake)
        self.assertIn("Worker Workshop PC does not run Laser yet: push the config", wizard.error_message)
        with FakeWorkerServer({"analysis.run": no_recording}) as fake:
            wizard = self._open(fake)
        self.assertIn("keeps no recording of readings (not_configured): turn on 'recording'", wizard.error_message)
        with FakeWorkerServer({"analysis.run": invalid}) as fake:
            wizard = self._open(fake)
        self.assertIn("The worker refused analysis.run: Invalid params", wizard.error_message)
        with FakeWorkerServer({}) as fake:  # a worker older than analysis.run
            wizard = self._open(fake)
        self.assertIn("cannot calibrate (it has no analysis.run): update the worker", wizard.error_message)

    def test_no_readings_in_range_is_said(self):
        def empty(params):
            result = analysis_result(params)
            result.update(readings=0, first_reading_at=None, last_reading_at=None, histogram=[], clusters=[],
                          explanation=["Recording is off for this machine."])
            return result

        with FakeWorkerServer({"analysis.run": empty}) as fake:
            wizard = self._open(fake)
        self.assertIn("no recorded readings of Laser", wizard.error_message)
        self.assertIn("'Record readings'", wizard.error_message)
        self.assertIn("\nRecording is off for this machine.", wizard.error_message, "the worker's own words too")
        self.assertFalse(wizard.chart_data)

    def test_worker_without_url_or_hello_is_said_without_a_call(self):
        with FakeWorkerServer({"analysis.run": analysis_result}) as fake:
            self.worker.url = fake.url
            self.worker.last_hello_at = False
            wizard = self._open(fake)
            self.assertIn("never said hello", wizard.error_message)
            self.worker.last_hello_at = fields.Datetime.now()
            self.worker.url = False
            wizard.action_run()
            self.assertIn("has no URL", wizard.error_message)
        self.assertEqual(fake.calls, [])


@tagged("post_install", "-at_install")
class TestRecordingFlag(WorkshopIotCase):
    def test_recording_is_on_by_default_and_off_is_pushed(self):
        self.assertTrue(self.device.recording)
        self.assertNotIn("recording", self.device._to_config(), "absent = recorded (contract default)")
        version = self.worker.config_version
        self.device.recording = False
        self.assertEqual(self.worker.config_version, version + 1, "a config change: pushed")
        config = self.worker._build_valid_config()
        laser = next(d for d in config["devices"] if d["device_id"] == "shelly-laser")
        self.assertIs(laser["recording"], False)
