"""Calibrate in chromium (issue 18): a manager opens a machine, clicks "Calibrate", sees the power
histogram drawn by Odoo's Chart.js and both session lists with their billing units, edits a
proposed threshold, re-runs, and applies. The worker is a fake at the HTTP boundary
(``fake_worker_http``): Odoo's server calls it over real HTTP."""

from odoo.tests import HttpCase, new_test_user, tagged

from .calibration_common import PROPOSED, analysis_result
from .common import browser_script
from .fake_worker_http import FakeWorkerServer, config_apply, free_port

CALIBRATE_BODY = """
        const calibrate = await waitFor(
            () => document.querySelector('button[name="action_calibrate"]'), "the Calibrate button");
        calibrate.click();
        const dialog = () => document.querySelector(".modal .o_workshop_iot_calibration");
        await waitFor(
            () => dialog() && dialog().querySelector(".o_workshop_iot_histogram canvas"), "the histogram canvas");
        const rows = (side) => dialog().querySelectorAll(`.o_workshop_iot_calibration_${side} .o_data_row`);
        await waitFor(() => rows("current").length === 3 && rows("proposed").length === 1, "both session lists");
        const chart = window.Chart.getChart(dialog().querySelector(".o_workshop_iot_histogram canvas"));
        if (!chart || chart.data.datasets[0].data.length !== 4) throw new Error("the chart has no 4 bins");
        const units = [...rows("current")]
            .map((row) => row.querySelector('td[name="billing_units"]').textContent.trim());
        if (units.join(",") !== "2,1,1") throw new Error(`current units: ${units}`);
        const input = dialog().querySelector('div[name="proposed_working_threshold_w"] input');
        input.value = "90";
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
        await settle();
        dialog().querySelector('button[name="action_rerun"]').click();
        await waitFor(() => dialog() && rows("proposed").length === 2, "the re-run's proposed sessions");
        document.querySelector('.modal button[name="action_apply"]').click();
        await waitFor(() => !dialog(), "the dialog closed");
"""

UNREACHABLE_BODY = """
        const calibrate = await waitFor(
            () => document.querySelector('button[name="action_calibrate"]'), "the Calibrate button");
        calibrate.click();
        const problem = await waitFor(
            () => document.querySelector(".modal .o_workshop_iot_calibration_problem:not(.d-none)"),
                                      "the problem message");
        if (!problem.textContent.includes("is it running")) throw new Error(`message: ${problem.textContent}`);
        if (document.querySelector(".modal .o_workshop_iot_histogram canvas")) throw new Error("a chart without data");
        if (document.querySelector(".o_error_dialog")) throw new Error("an error dialog instead of the message");
"""


@tagged("post_install", "-at_install")
class TestCalibrationTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        new_test_user(env, login="wiot-cal-manager", groups="workshop_iot.workshop_iot_group_manager")
        broker = env["workshop.broker"].create({"name": "Cal broker", "url": "mqtt://broker.test:1883"})
        cls.worker = env["workshop.worker"].create({
            "name": "Cal worker", "worker_uid": "wk-cal", "url": "http://127.0.0.1:9", "token": "c" * 32,
            "broker_id": broker.id, "last_hello_at": "2026-12-01 08:00:00",
        })
        cls.laser = env["workshop.device"].create({
            "name": "Laser", "device_id": "cal-laser", "topic": "shellyplus1pm-cal-laser", "worker_id": cls.worker.id,
        })

    def _url(self):
        # Debug mode: OWL validates the widget's props.
        return "/odoo/action-workshop_iot.workshop_device_action/%s?debug=1" % self.laser.id

    def test_calibrate_rerun_and_apply_in_the_browser(self):
        def answer(params):
            result = analysis_result(params)
            if params.get("candidate"):
                result["proposed"]["sessions"] = result["current"]["sessions"][:2]
            return result

        with FakeWorkerServer({"analysis.run": answer, "config.apply": config_apply}) as fake:
            self.worker.url = fake.url
            self.browser_js(self._url(), browser_script("calibrate", CALIBRATE_BODY),
                            login="wiot-cal-manager", timeout=180)
        self.assertEqual(fake.methods()[:2], ["analysis.run", "analysis.run"])
        self.assertEqual(fake.calls[1][1]["candidate"], dict(PROPOSED, working_threshold_w=90.0))
        self.env.invalidate_all()
        self.assertEqual(self.laser.working_threshold_w, 90.0)
        self.assertEqual(self.laser.start_debounce_s, PROPOSED["start_debounce_s"])

    def test_an_unreachable_worker_is_said_in_the_dialog(self):
        self.worker.url = "http://127.0.0.1:%s" % free_port()
        self.browser_js(self._url(), browser_script("calibrate unreachable", UNREACHABLE_BODY),
                        login="wiot-cal-manager", timeout=180)
