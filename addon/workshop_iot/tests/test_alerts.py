"""Alerts as activities (issue 17): each condition raises ONE activity for the record's responsible,
raising again while it is open adds none, and the activity is marked done (with a note saying what
cleared) when the condition clears. Plus the review digest and the dashboard's banner payload."""

import copy
from datetime import datetime, timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import WorkshopIotCase, apply_ok, capture_bus, mock_worker, unreachable
from .test_crons import HEALTH, WORKER_LOGGER

ACTIVITY_TYPE = "workshop_iot.mail_activity_type_alert"


class AlertCase(WorkshopIotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.responsible = new_test_user(cls.env, login="wiot-alerts", groups="workshop_iot.workshop_iot_group_manager")
        cls.env["ir.config_parameter"].sudo().set_param("workshop_iot.alert_user_id", cls.responsible.id)

    def alerts(self, record, condition, done=False):
        """Activities of ``condition`` on ``record``: open ones, or (``done``) the closed ones."""
        return self.env["mail.activity"].with_context(active_test=False).search([
            ("res_model", "=", record._name), ("res_id", "=", record.id),
            ("workshop_alert_condition", "=", condition), ("active", "=", not done)])

    def assertRaisedOnce(self, record, condition, user=None):
        open_ = self.alerts(record, condition)
        self.assertEqual(len(open_), 1, "exactly one open %s alert" % condition)
        self.assertEqual(open_.activity_type_id, self.env.ref(ACTIVITY_TYPE))
        self.assertEqual(open_.user_id, user or self.responsible)
        return open_

    def assertCleared(self, record, condition, note_part):
        self.assertFalse(self.alerts(record, condition), "%s alert closed" % condition)
        done = self.alerts(record, condition, done=True)
        self.assertEqual(len(done), 1)
        self.assertTrue(done.date_done)
        body = record.message_ids.filtered(lambda m: m.mail_activity_type_id == done.activity_type_id)[:1].body
        self.assertIn(note_part, str(body), "the chatter says what cleared the alert")


@tagged("post_install", "-at_install")
class TestWorkerAlerts(AlertCase):
    def test_silent_worker_raised_once_and_closed_when_it_reports(self):
        # A worker without URL (Odoo cannot ask it): offline by silence only.
        self.worker.sudo().write({"url": False, "status": "online",
                                  "last_seen_at": fields.Datetime.now() - timedelta(hours=1)})
        self.env["workshop.worker"]._cron_check_health()
        self.env["workshop.worker"]._cron_check_health()
        self.assertEqual(self.worker.status, "offline")
        activity = self.assertRaisedOnce(self.worker, "worker_offline")
        self.assertEqual(activity.summary, "Worker offline")
        self.worker._touch(fields.Datetime.now())
        self.assertCleared(self.worker, "worker_offline", "online and answers again")

    def test_unreachable_worker_raised_once_and_closed_when_it_answers(self):
        # "Check now" right after the worker died: still within the offline delay, but it does not answer.
        self.worker.sudo().write({"last_seen_at": fields.Datetime.now() - timedelta(seconds=5), "status": "online"})
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, "WARNING") as logs:
            self.worker.with_user(self.manager).action_check_health()
            self.env["workshop.worker"]._cron_check_health()
        self.assertIn("Health check of worker wk-test failed", logs.output[0])
        activity = self.assertRaisedOnce(self.worker, "worker_offline")
        self.assertEqual(activity.summary, "Worker unreachable")
        self.assertIn("connection refused", activity.note)
        # It reports (hello, status) but Odoo still cannot reach its URL: the one alert stays open.
        self.worker._touch(fields.Datetime.now())
        self.assertRaisedOnce(self.worker, "worker_offline")
        health = dict(copy.deepcopy(HEALTH), status="ok")
        with mock_worker(lambda method, params: health):
            self.worker.with_user(self.manager).action_check_health()
        self.assertCleared(self.worker, "worker_offline", "online and answers again")

    def test_the_database_refuses_a_second_open_alert(self):
        # What a concurrent transaction would do: create the same alert past the ORM-level check.
        self.worker._alert_raise("dead_letters", "1 dead letter(s)")
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.worker.sudo().activity_schedule(
                ACTIVITY_TYPE,
                summary="again",
                workshop_alert_condition="dead_letters",
            )
            self.env.flush_all()
        self.env.invalidate_all(flush=False)

    def test_losing_the_race_skips_instead_of_failing(self):
        # _alert_raise that did not see the concurrent transaction's alert (its search said none).
        self.worker._alert_raise("dead_letters", "1 dead letter(s)")
        with patch.object(type(self.worker), "_alert_open", lambda self, condition=None: self.env["mail.activity"]), \
                mute_logger("odoo.sql_db"):
            self.assertFalse(self.worker._alert_raise("dead_letters", "again"), "no second alert, no error")
        self.assertRaisedOnce(self.worker, "dead_letters")
        self.assertEqual(self.alerts(self.worker, "dead_letters").summary, "1 dead letter(s)")

    def test_worker_responsible_overrides_the_default(self):
        self.worker.alert_user_id = self.manager
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, "WARNING"):
            self.env["workshop.worker"]._cron_check_health()
        self.assertRaisedOnce(self.worker, "worker_offline", user=self.manager)

    def test_config_push_failing_after_its_retries(self):
        with mock_worker(unreachable), self.assertLogs(WORKER_LOGGER, "WARNING"):
            self.worker._push_config()
            self.worker._push_config()
            self.assertFalse(self.alerts(self.worker, "push_failed"), "retries below the limit alert nobody")
            self.worker._push_config()
            self.worker._push_config()
        self.assertEqual(self.worker.push_state, "retry")
        self.assertRaisedOnce(self.worker, "push_failed")
        with mock_worker(apply_ok):
            self.worker._push_config()
        self.assertCleared(self.worker, "push_failed", "applied its config")

    def test_dead_letters_reported_by_the_worker(self):
        now = fields.Datetime.now()
        self.worker._touch(now, dead_letters=2)
        self.worker._touch(now + timedelta(seconds=20), dead_letters=5)
        activity = self.assertRaisedOnce(self.worker, "dead_letters")
        self.assertIn("2 dead letter", activity.summary, "not re-raised (nor rewritten) while open")
        self.worker._touch(now + timedelta(seconds=40), dead_letters=0)
        self.assertCleared(self.worker, "dead_letters", "No dead letters left")

    def test_degraded_health_outbox_over_its_cap(self):
        with mock_worker(lambda method, params: HEALTH):
            self.env["workshop.worker"]._cron_check_health()
            self.env["workshop.worker"]._cron_check_health()
        self.assertRaisedOnce(self.worker, "degraded")
        health = dict(copy.deepcopy(HEALTH), status="ok")
        with mock_worker(lambda method, params: health):
            self.env["workshop.worker"]._cron_check_health()
        self.assertCleared(self.worker, "degraded", "OK again")

    def test_fold_backlog_and_last_fold_on_the_worker_form(self):
        ev = self.events
        self.ingest([ev.online(self.device, 1, 0), ev.online(self.device2, 1, 0)])
        self.worker.invalidate_recordset(["fold_backlog", "last_fold_at"])
        self.assertEqual((self.worker.fold_backlog, self.worker.last_fold_at), (2, False))
        self.fold_pending()
        self.worker.invalidate_recordset(["fold_backlog", "last_fold_at"])
        self.assertEqual(self.worker.fold_backlog, 0)
        self.assertTrue(self.worker.last_fold_at)


@tagged("post_install", "-at_install")
class TestMachineAlerts(AlertCase):
    def test_offline_while_a_session_ran_raised_at_once_and_closed_when_back(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.offline(self.device, 2, 30)])
        self.assertEqual(self.device.live_state, "offline")
        area = self.env["workshop.area"].create({"name": "Hall A", "responsible_id": self.manager.id})
        self.assertRaisedOnce(self.device, "machine_offline")  # raised before the area had a responsible
        self.ingest_and_fold([ev.online(self.device, 3, 60, state="working", power_w=500.0)])
        self.assertCleared(self.device, "machine_offline", "reports again")
        self.ingest_and_fold([ev.offline(self.device, 4, 90)])
        self.assertRaisedOnce(self.device, "machine_offline", user=area.responsible_id)

    def test_offline_without_session_only_after_the_configured_time(self):
        ev = self.events
        self.ingest_and_fold([ev.online(self.device2, 1, 0), ev.offline(self.device2, 2, 30)])
        self.assertFalse(self.alerts(self.device2, "machine_offline"), "no session ran: not at once")
        self.env["ir.config_parameter"].sudo().set_param("workshop_iot.machine_offline_alert_min", "30")
        changed = self.device2.live_changed_at
        Device = self.env["workshop.device"]
        Device._cron_check_alerts(now=changed + timedelta(minutes=29))
        self.assertFalse(self.alerts(self.device2, "machine_offline"))
        Device._cron_check_alerts(now=changed + timedelta(minutes=31))
        Device._cron_check_alerts(now=changed + timedelta(minutes=40))
        self.assertRaisedOnce(self.device2, "machine_offline")
        self.ingest_and_fold([ev.online(self.device2, 3, 60)])
        self.assertCleared(self.device2, "machine_offline", "reports again")

    def test_still_on_at_the_areas_closing_time(self):
        self.env["ir.config_parameter"].sudo().set_param("workshop_iot.timezone", "UTC")
        self.env["workshop.area"].create({"name": "Hall A", "closing_time": 18.5})
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device, 1, uid)])
        self.assertEqual(self.device.live_state, "working")
        day = datetime(2026, 12, 1)
        Device = self.env["workshop.device"]
        Device._cron_check_alerts(now=day.replace(hour=18, minute=20))
        self.assertFalse(self.alerts(self.device, "on_after_closing"))
        Device._cron_check_alerts(now=day.replace(hour=18, minute=35))
        Device._cron_check_alerts(now=day.replace(hour=19))
        self.assertRaisedOnce(self.device, "on_after_closing")
        self.assertFalse(self.alerts(self.device2, "on_after_closing"), "the Lathe has no area with a closing time")
        self.ingest_and_fold([self.events.stopped(self.device, 2, uid, 120, 100.0, 0.0)])
        self.assertCleared(self.device, "on_after_closing", "switched off")

    def test_session_longer_than_the_machines_maximum(self):
        self.device.max_session_h = 1.0
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device, 1, uid)])
        start = self.session(uid).started_at
        Device = self.env["workshop.device"]
        Device._cron_check_alerts(now=start + timedelta(minutes=59))
        self.assertFalse(self.alerts(self.device, "session_too_long"))
        Device._cron_check_alerts(now=start + timedelta(minutes=61))
        Device._cron_check_alerts(now=start + timedelta(minutes=90))
        self.assertRaisedOnce(self.device, "session_too_long")
        self.ingest_and_fold([self.events.stopped(self.device, 2, uid, 120, 100.0, 0.0)])
        Device._cron_check_alerts(now=start + timedelta(minutes=95))
        self.assertCleared(self.device, "session_too_long", "long session ended")

    def test_the_tile_payload_carries_the_alert_and_the_bus_tells_the_dashboard(self):
        self.assertIsNone(self.device._dashboard_payload()[0]["alert"])
        with capture_bus(self.env) as sent:
            self.device._alert_raise("session_too_long", "Session longer than 1.0 h", "")
        payloads = [message for _target, kind, message in sent if kind == "workshop_iot/device_state"]
        self.assertEqual(payloads[-1]["id"], self.device.id)
        self.assertEqual(payloads[-1]["alert"], "Session longer than 1.0 h")
        with capture_bus(self.env) as sent:
            self.device._alert_clear("session_too_long", "ended")
        self.assertIsNone([m for _t, k, m in sent if k == "workshop_iot/device_state"][-1]["alert"])


@tagged("post_install", "-at_install")
class TestReviewDigest(AlertCase):
    def _flagged(self, device, seq):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold(
            [ev.started(device, seq, uid), ev.stopped(device, seq + 1, uid, 120, 60.0, 0.0, reason="timeout")],
        )
        return self.session(uid)

    def digest_alerts(self, done=False):
        digest = self.env["workshop.review.digest"].search([("company_id", "=", self.env.company.id)])
        return digest, (self.alerts(digest, "review_pending", done=done) if digest else self.env["mail.activity"])

    def test_one_digest_for_n_sessions_updated_and_closed_at_zero(self):
        first = self._flagged(self.device, 1)
        digest, open_ = self.digest_alerts()
        self.assertEqual(len(open_), 1)
        self.assertIn("1 session(s) to review", open_.summary)
        second = self._flagged(self.device2, 1)
        third = self._flagged(self.device, 10)
        digest, open_ = self.digest_alerts()
        self.assertEqual(len(open_), 1, "one digest, not one activity per session")
        self.assertEqual(open_.user_id, self.responsible)
        self.assertIn("3 session(s) to review", open_.summary)
        first.with_user(self.manager).action_mark_reviewed("Checked the log.")
        self.assertIn("2 session(s) to review", self.digest_alerts()[1].summary)
        (second | third).with_user(self.manager).action_mark_reviewed("Checked too.")
        self.assertFalse(self.digest_alerts()[1])
        self.assertCleared(digest, "review_pending", "No session waits for review")
