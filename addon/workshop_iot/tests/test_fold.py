import contextlib
import uuid
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from ..models import workshop_event_fold
from ..models.workshop_device_live import BUS_TYPE
from ..models.workshop_event_fold import FOLD_CRON
from .common import EventFactory, WorkshopIotCase, capture_bus, wire_ts

SESSION_FIELDS = ("state", "started_at", "ended_at", "total_s", "working_s", "standby_s", "first_seq",
                  "last_seq", "event_count", "has_start_event", "has_stop_event", "seq_gap_count")


@tagged("post_install", "-at_install")
class TestFold(WorkshopIotCase):
    """events.ingest stores, the fold cron applies: what each side does and does not do."""

    def _lifecycle(self, uid, device=None, seq0=1):
        ev, device = self.events, device or self.device
        return [
            ev.started(device, seq0, uid),
            ev.heartbeat(device, seq0 + 1, uid, 60, working_s=50.0, standby_s=10.0),
            ev.stopped(device, seq0 + 2, uid, 130, working_s=105.0, standby_s=20.0),
        ]

    def _pending(self):
        return self.env["workshop.event"].search_count([("state", "=", "pending")])

    def test_ingest_answers_before_folding(self):
        uid = self.new_session()
        with capture_bus(self.env) as sent:
            results = self.ingest(self._lifecycle(uid))
        self.assertEqual([r["status"] for r in results], ["accepted"] * 3)
        events = self.env["workshop.event"].search([("session_uid", "=", uid)])
        self.assertEqual(set(events.mapped("state")), {"pending"})
        self.assertFalse(self.session(uid), "no session before the fold")
        self.assertEqual(self.device.live_state, "unknown", "no live state before the fold")
        self.assertFalse([s for s in sent if s[1] == BUS_TYPE], "no dashboard notification from the ingest")
        with capture_bus(self.env) as sent:
            self.assertEqual(self.fold_pending(), 3)
        self.assertEqual(set(events.mapped("state")), {"processed"})
        self.assertEqual(events.session_id, self.session(uid))
        self.assertEqual(events.device_id, self.device)
        self.assertEqual(self.session(uid).state, "done")
        self.assertEqual(len([s for s in sent if s[1] == BUS_TYPE]), 1)

    def test_ingest_registers_one_trigger_per_transaction(self):
        cron = self.env.ref(FOLD_CRON)
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search([("cron_id", "=", cron.id)])
        self.ingest([self.events.online(self.device, 1, 0)])
        self.ingest([self.events.online(self.device, 2, 1)])
        self.env.cr.flush()  # what COMMIT runs first: the precommit hooks
        new = Trigger.search([("cron_id", "=", cron.id)]) - before
        self.assertEqual(len(new), 1)
        self.assertLessEqual(abs((new.call_at - fields.Datetime.now()).total_seconds()), 60)
        duplicate = self.events.online(self.device, 3, 2)
        self.ingest([duplicate])
        self.env.cr.flush()
        self.ingest([duplicate])
        self.env.cr.flush()
        self.assertEqual(len(Trigger.search([("cron_id", "=", cron.id)]) - before), 2,
                         "a call that stored nothing triggers nothing")

    def test_fold_in_chunks_in_any_arrival_order(self):
        reference_uid, uid = self.new_session(), self.new_session()
        self.ingest_and_fold(self._lifecycle(reference_uid, seq0=1))
        events = self._lifecycle(uid, seq0=11)
        self.ingest([events[2]])
        self.ingest([events[0], self.events.online(self.device2, 1, 5, state="working", power_w=300.0)])
        self.ingest([events[1]])
        with patch.object(workshop_event_fold, "FOLD_CHUNK", 2):
            Event = self.env["workshop.event"]
            self.assertEqual(Event._cron_fold_events(), 2)
            self.assertEqual(self._pending(), 2)
            self.assertEqual(Event._cron_fold_events(), 2)
            self.assertEqual(Event._cron_fold_events(), 0)
        reference, session = self.session(reference_uid), self.session(uid)
        for name in SESSION_FIELDS:
            expected = reference[name] + 10 if name in ("first_seq", "last_seq") else reference[name]
            self.assertEqual(session[name], expected, name)
        self.assertEqual(self.device.live_state, "idle", "the newest event (the stop) sets the live state")
        self.assertEqual(self.device2.live_state, "working")

    def test_failing_event_is_recorded_and_does_not_block_the_others(self):
        bad, good = self.new_session(), self.new_session()
        original = type(self.env["workshop.session"])._fold_session

        def fold_session(session_model, device, worker, session, session_uid, events):
            if session_uid == bad:
                raise ValueError("broken payload")
            return original(session_model, device, worker, session, session_uid, events)

        self.ingest(self._lifecycle(bad) + self._lifecycle(good, device=self.device2))
        with patch.object(type(self.env["workshop.session"]), "_fold_session", fold_session), \
                mute_logger("odoo.addons.workshop_iot.models.workshop_session_processing"):
            self.assertEqual(self.fold_pending(), 6)
        failed = self.env["workshop.event"].search([("session_uid", "=", bad)])
        self.assertEqual(set(failed.mapped("state")), {"error"})
        self.assertEqual(set(failed.mapped("error")), {"Processing failed: ValueError"})
        self.assertFalse(self.session(bad))
        self.assertEqual(self.session(good).state, "done")
        self.assertEqual(self._pending(), 0, "an error does not stay in the queue")
        self.assertEqual(self.fold_pending(), 0, "errors are not retried by the cron")
        failed.action_reprocess()
        self.assertEqual(set(failed.mapped("state")), {"processed"})
        self.assertEqual(self.session(bad).working_s, 105.0)

    def test_chunk_failing_as_a_whole_is_parked_as_errors(self):
        uid = self.new_session()
        self.ingest(self._lifecycle(uid))

        def boom(self):
            raise RuntimeError("seq gaps")

        with patch.object(type(self.env["workshop.session"]), "_update_seq_gaps", boom), \
                mute_logger("odoo.addons.workshop_iot.models.workshop_event_fold"):
            self.assertEqual(self.fold_pending(), 3)
        events = self.env["workshop.event"].search([("session_uid", "=", uid)])
        self.assertEqual(set(events.mapped("state")), {"error"})
        self.assertTrue(all(e.error.startswith("Fold failed (reference ") for e in events))
        self.assertFalse(self.session(uid), "the chunk's session writes were rolled back")
        events.action_reprocess()
        self.assertEqual(self.session(uid).event_count, 3, "applied once, after the rollback")

    def test_running_the_fold_again_changes_nothing(self):
        uid = self.new_session()
        self.ingest_and_fold(self._lifecycle(uid))
        before = {name: self.session(uid)[name] for name in SESSION_FIELDS}
        with capture_bus(self.env) as sent:
            self.assertEqual(self.fold_pending(), 0)
            self.env["workshop.event"].search([("session_uid", "=", uid)]).action_reprocess()
        self.assertEqual({name: self.session(uid)[name] for name in SESSION_FIELDS}, before)
        self.assertFalse(sent)

    def test_cron_run_reports_progress(self):
        self.ingest(self._lifecycle(self.new_session()))
        cron = self.env.ref(FOLD_CRON)
        cron.method_direct_trigger()
        progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)], order="id desc", limit=1)
        self.assertEqual((progress.done, progress.remaining), (3, 0))
        self.assertEqual(self._pending(), 0)


@tagged("post_install", "-at_install")
class TestFoldConcurrency(TransactionCase):
    """Two fold transactions at once (committed rows, removed at the end): the second skips the
    events the first holds instead of folding them twice or waiting."""

    def test_concurrent_claims_take_different_events(self):
        factory = EventFactory("wk-fold-race", fields.Datetime.now())
        events = [factory.online("fold-race-%s" % uuid.uuid4().hex[:8], 1, 0) for _ in range(3)]
        uids = [e["event_uid"] for e in events]
        cr0, cr1, cr2 = self.registry.cursor(), self.registry.cursor(), self.registry.cursor()
        try:
            env0 = api.Environment(cr0, SUPERUSER_ID, {})
            env0["workshop.event"]._insert_events(env0["workshop.worker"], {}, events)
            cr0.commit()
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            first = {i["event_uid"] for i in env1["workshop.event"]._fold_claim(1000)} & set(uids)
            self.assertEqual(first, set(uids))
            second = {i["event_uid"] for i in env2["workshop.event"]._fold_claim(1000)} & set(uids)
            self.assertEqual(second, set(), "rows held by the first fold are skipped, not waited for")
            env1["workshop.event"]._fold_items(
                [i for i in env1["workshop.event"]._fold_claim(1000) if i["event_uid"] in uids])
            cr1.commit()
            cr2.rollback()
            again = {i["event_uid"] for i in env2["workshop.event"]._fold_claim(1000)} & set(uids)
            self.assertEqual(again, set(), "folded events are not pending any more")
            cr2.execute(SQL("SELECT DISTINCT state FROM workshop_event WHERE event_uid = ANY(%s)", uids))
            self.assertEqual(cr2.fetchall(), [("error",)], "no worker, no machine: stored as errors")
            cr2.rollback()
        finally:
            for cr in (cr1, cr2):
                cr.rollback()
                cr.close()
            cr0.execute(SQL("DELETE FROM workshop_event WHERE event_uid = ANY(%s)", uids))
            cr0.commit()
            cr0.close()

    @contextlib.contextmanager
    def _committed_machines(self):
        """A worker and two machines committed for the test (removed at the end, with their events
        and the fold triggers and bus rows the test committed); yields (worker id, [(id, key)])."""
        tag = uuid.uuid4().hex[:8]
        cr0 = self.registry.cursor()
        env0 = api.Environment(cr0, SUPERUSER_ID, {"tracking_disable": True})
        cr0.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger"))
        last_trigger = cr0.fetchone()[0]
        cr0.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM bus_bus"))
        last_bus = cr0.fetchone()[0]
        worker = env0["workshop.worker"].create({"name": "Race " + tag, "worker_uid": "wk-race-" + tag})
        devices = env0["workshop.device"].create([
            {"name": "Race %s %s" % (n, tag), "device_id": "race-%s-%s" % (n, tag), "topic": "race/%s/%s" % (n, tag),
             "worker_id": worker.id} for n in (1, 2)])
        worker_id, machines = worker.id, [(d.id, d.device_id) for d in devices]
        cr0.postcommit.clear()  # no config push to a worker without URL
        cr0.commit()
        try:
            yield worker_id, machines
        finally:
            cr0.rollback()
            ids = [m[0] for m in machines]
            cr0.execute(SQL("DELETE FROM workshop_event WHERE worker_uid = %s", "wk-race-" + tag))
            cr0.execute(SQL("DELETE FROM mail_followers WHERE res_model = 'workshop.device' AND res_id = ANY(%s)", ids))
            cr0.execute(SQL("DELETE FROM workshop_device WHERE id = ANY(%s)", ids))
            cr0.execute(SQL("DELETE FROM workshop_worker WHERE id = %s", worker_id))
            cr0.execute(SQL("DELETE FROM ir_cron_trigger WHERE id > %s", last_trigger))
            cr0.execute(SQL("DELETE FROM bus_bus WHERE id > %s", last_bus))
            cr0.commit()
            cr0.close()

    def test_status_report_skips_a_machine_written_concurrently(self):
        """worker.status after a fold wrote one of its machines: that machine's report is skipped,
        the others apply, and the call does not fail (no retry, no sleep)."""
        now = fields.Datetime.now()
        with self._committed_machines() as (worker_id, machines), \
                self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            ids = [m[0] for m in machines]
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            self.assertEqual(env1["workshop.device"].browse(ids).mapped("live_state"), ["unknown"] * 2)
            env2["workshop.device"].browse(ids[0])._set_live(
                {"live_state": "working", "live_changed_at": now})  # the fold, committed meanwhile
            cr2.commit()

            def item(device_key):
                return {"device_id": device_key, "state": "standby", "power_w": 20.0, "session_id": None,
                        "session_started_at": None, "session_working_s": 0.0, "session_standby_s": 0.0,
                        "last_seen_at": wire_ts(now), "changed_at": wire_ts(now)}

            with mute_logger("odoo.sql_db", "odoo.addons.workshop_iot.models.workshop_device_live"):
                changed = env1["workshop.device"]._apply_live_states(
                    env1["workshop.worker"].browse(worker_id), [item(key) for _id, key in machines])
            self.assertEqual(changed.ids, ids[1:])
            cr1.commit()
            cr2.execute(SQL("SELECT live_state FROM workshop_device WHERE id = ANY(%s) ORDER BY id", ids))
            self.assertEqual([r[0] for r in cr2.fetchall()], ["working", "standby"])

    def test_fold_losing_a_race_is_postponed_then_done(self):
        """A fold whose machine row changed under it (worker.status committed meanwhile) folds
        nothing, leaves the events pending and triggers itself; the next run folds them."""
        now = fields.Datetime.now()
        with self._committed_machines() as (worker_id, machines), \
                self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            worker = env1["workshop.worker"].browse(worker_id)
            factory = EventFactory(worker.worker_uid, now)
            event = factory.online(machines[0][1], 1, 0, state="working", power_w=300.0)
            env1["workshop.event"]._insert_events(worker, {}, [event])
            cr1.commit()
            cr1.execute(SQL("SELECT 1"))  # the fold's snapshot starts here
            env2["workshop.device"].browse(machines[0][0])._set_live(
                {"live_state": "standby", "live_changed_at": now - timedelta(seconds=5)})
            cr2.commit()
            with mute_logger("odoo.sql_db", "odoo.addons.workshop_iot.models.workshop_event_fold"):
                self.assertEqual(env1["workshop.event"]._cron_fold_events(), 0)
            self.assertTrue(cr1.precommit.data.get(workshop_event_fold._TRIGGER_KEY), "re-triggered")
            cr1.commit()
            self.assertEqual(env1["workshop.event"]._cron_fold_events(), 1)
            cr1.commit()
            cr2.execute(SQL("SELECT state FROM workshop_event WHERE event_uid = %s", event["event_uid"]))
            self.assertEqual(cr2.fetchone()[0], "processed")
            cr2.execute(SQL("SELECT live_state FROM workshop_device WHERE id = %s", machines[0][0]))
            self.assertEqual(cr2.fetchone()[0], "working", "the event is newer than the status")
