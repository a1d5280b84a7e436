"""Durations as people read them: H:MM:SS in Odoo's lists and forms (widget ``workshop_duration``,
the dashboard's own formatter), with shown working + standby adding up to the shown sum, and the
worker's uptime and oldest pending event as durations instead of raw seconds."""

import importlib.util
import os

from odoo.tests import HttpCase, new_test_user, tagged

from ..tools import durations
from .common import browser_script


def _load_migration(version, name):
    """A migration script as a module (its file name is not a Python identifier)."""
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations", version, name)
    spec = importlib.util.spec_from_file_location(f"workshop_iot_migration_{version.replace('.', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Each field of EXPECT (from the test) shows its expected text on the open form.
BROWSER_BODY = """
        const text = (sel) => (document.querySelector(sel)?.textContent ?? "").trim();
        for (const [name, wanted] of Object.entries(EXPECT)) {
            const sel = `.o_form_view .o_field_widget[name="${name}"]`;
            await waitFor(() => document.querySelector(sel), `field ${name}`);
            if (text(sel) !== wanted) throw new Error(`${name} shows "${text(sel)}", expected "${wanted}"`);
        }
"""


@tagged("post_install", "-at_install")
class TestDurationDisplay(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        new_test_user(env, login="wiot-dur-manager",
                      groups="base.group_user,workshop_iot.workshop_iot_group_manager")
        worker_user = new_test_user(env, login="wiot-dur-worker", groups="workshop_iot.workshop_iot_group_worker")
        broker = env["workshop.broker"].create({"name": "Dur broker", "url": "mqtt://broker.test:1883"})
        cls.worker = env["workshop.worker"].create({
            "name": "Dur worker", "worker_uid": "wk-dur", "url": "http://worker.test:8787",
            "token": "e" * 32, "broker_id": broker.id, "user_id": worker_user.id,
            "uptime_s": 460.66, "oldest_pending_s": 0.0,
        })
        device = env["workshop.device"].create({
            "name": "Saw", "device_id": "dur-saw", "topic": "shellyplus1pm-dur-saw", "worker_id": cls.worker.id,
        })
        # A 61 s session: 53.6 s working + 7.4 s standby (float seconds, as the worker reports them).
        cls.usage = env["workshop.session"].sudo().create({
            "session_uid": "0190a0c2-7a3b-7cde-8f00-00000000d061", "device_id": device.id,
            "started_at": "2026-11-25 10:00:00", "ended_at": "2026-11-25 10:01:01", "state": "done",
            "total_s": 61.0, "working_s": 53.6, "standby_s": 7.4,
        })

    def test_rule_shown_parts_add_up(self):
        self.assertEqual(durations.shown_parts(61.0, 53.6, 7.4), (61, 54, 7))
        self.assertEqual(durations.shown_parts(1.0, 0.5, 0.5), (1, 1, 0))
        self.assertEqual(durations.shown_parts(2.0, 0.4, 0.4), (2, 0, 1))
        self.assertEqual(durations.shown_parts(None, -1.0, float("nan")), (0, 0, 0))

    def test_session_hours_hold_the_shown_seconds(self):
        session = self.usage
        self.assertEqual(round(session.working_hours * 3600, 6), 54)
        self.assertEqual(round(session.standby_hours * 3600, 6), 7)
        self.assertEqual(round(session.total_hours * 3600, 6), 61)

    def test_upgrade_recomputes_hours_stored_by_an_earlier_version(self):
        # 18.0.1.0.0 stored the float seconds: 53.6 s working, 7.4 s standby.
        self.env.cr.execute(
            "UPDATE workshop_session SET working_hours = %s, standby_hours = %s, total_hours = %s WHERE id = %s",
            (53.6 / 3600, 7.4 / 3600, 61.0 / 3600, self.usage.id))
        self.env.invalidate_all()
        self.assertAlmostEqual(self.usage.working_hours * 3600, 53.6, places=6)
        migration = _load_migration("18.0.1.1.0", "post-migrate.py")
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(round(self.usage.working_hours * 3600, 6), 54)
        self.assertEqual(round(self.usage.standby_hours * 3600, 6), 7)

    def test_session_form_shows_seconds_that_add_up(self):
        expect = {"total_hours": "0:01:01", "working_hours": "0:00:54", "standby_hours": "0:00:07"}
        code = browser_script("duration", BROWSER_BODY, EXPECT=expect)
        self.browser_js(f"/odoo/action-workshop_iot.workshop_session_action/{self.usage.id}", code,
                        login="wiot-dur-manager", timeout=120)

    def test_worker_form_shows_uptime_as_a_duration(self):
        expect = {"uptime_s": "0:07:41", "oldest_pending_s": "0:00:00"}
        code = browser_script("duration", BROWSER_BODY, EXPECT=expect)
        self.browser_js(f"/odoo/action-workshop_iot.workshop_worker_action/{self.worker.id}", code,
                        login="wiot-dur-manager", timeout=120)
