import itertools
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import WorkshopIotCase

COMPARED = ("state", "stop_reason", "started_at", "ended_at", "total_s", "working_s", "standby_s",
            "first_seq", "last_seq", "event_count", "has_start_event", "has_stop_event", "seq_gap_count",
            "billing_units")


@tagged("post_install", "-at_install")
class TestSessionProcessing(WorkshopIotCase):
    def _lifecycle(self, session, seq0=1):
        ev = self.events
        return [
            ev.started(self.device, seq0, session),
            ev.heartbeat(self.device, seq0 + 1, session, 60, working_s=50.0, standby_s=10.0),
            ev.heartbeat(self.device, seq0 + 2, session, 120, working_s=100.0, standby_s=15.0),
            ev.stopped(self.device, seq0 + 3, session, 130, working_s=105.0, standby_s=20.0),
        ]

    def _snapshot(self, session):
        return {name: session[name] for name in COMPARED}

    def test_in_order_lifecycle(self):
        uid = self.new_session()
        results = self.ingest_and_fold(self._lifecycle(uid))
        self.assertEqual([r["status"] for r in results], ["accepted"] * 4)
        session = self.session(uid)
        self.assertEqual(session.state, "done")
        self.assertEqual(session.stop_reason, "power_off")
        self.assertEqual((session.working_s, session.standby_s, session.total_s), (105.0, 20.0, 130.0))
        self.assertEqual(session.ended_at, self.events.at(130))
        self.assertEqual(session.seq_gap_count, 0)
        self.assertFalse(session.needs_review)
        self.assertEqual(set(session.event_ids.mapped("state")), {"processed"})
        self.assertEqual(len(session.event_ids), 4)

    def test_every_arrival_order_gives_the_same_session(self):
        reference = None
        for n, order in enumerate(itertools.permutations(range(4))):
            uid = self.new_session()
            events = self._lifecycle(uid, seq0=10 * n + 1)
            for index in order:  # one event per batch: the worst case for ordering
                self.ingest_and_fold([events[index]])
            snap = self._snapshot(self.session(uid))
            snap["first_seq"] -= 10 * n
            snap["last_seq"] -= 10 * n
            if reference is None:
                reference = snap
            self.assertEqual(snap, reference, "arrival order %s" % (order,))
        self.assertEqual(reference["state"], "done")
        self.assertEqual(reference["working_s"], 105.0)

    def test_heartbeat_before_start_opens_a_running_session(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 60, working_s=40.0, standby_s=20.0)])
        session = self.session(uid)
        self.assertEqual(session.state, "running")
        self.assertFalse(session.has_start_event)
        self.assertEqual(session.started_at, self.events.at(0))
        self.ingest_and_fold([ev.started(self.device, 1, uid)])
        self.assertTrue(session.has_start_event)
        self.assertEqual(session.working_s, 40.0, "a start carries no totals and must not reset them")

    def test_older_heartbeat_never_lowers_totals(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.heartbeat(self.device, 3, uid, 120, 100.0, 10.0)])
        self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 60, 50.0, 5.0)])
        self.assertEqual(self.session(uid).working_s, 100.0)

    def test_heartbeat_after_stop_does_not_reopen(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 3, uid, 130, 100.0, 20.0)])
        self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 60, 50.0, 5.0)])
        session = self.session(uid)
        self.assertEqual((session.state, session.working_s), ("done", 100.0))

    def test_duplicates_are_reported_and_change_nothing(self):
        uid = self.new_session()
        events = self._lifecycle(uid)
        self.ingest_and_fold(events)
        before = self._snapshot(self.session(uid))
        results = self.ingest_and_fold(events + [events[0]])
        self.assertEqual([r["status"] for r in results], ["duplicate"] * 5)
        self.assertEqual(self._snapshot(self.session(uid)), before)
        self.assertEqual(self.env["workshop.event"].search_count([("session_uid", "=", uid)]), 4)

    def test_duplicate_inside_one_batch(self):
        event = self.events.started(self.device, 1, self.new_session())
        results = self.ingest_and_fold([event, dict(event)])
        self.assertEqual([r["status"] for r in results], ["accepted", "duplicate"])

    def test_seq_gap_is_flagged_then_cleared_when_the_hole_fills(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.heartbeat(self.device, 2, uid, 60, 50.0, 0.0),
                              ev.stopped(self.device, 5, uid, 130, 100.0, 0.0)])
        session = self.session(uid)
        self.assertEqual(session.seq_gap_count, 2)
        self.assertTrue(session.needs_review)
        # seq 4 is not a session event: the gap is counted over all of the machine's events.
        self.ingest_and_fold([ev.online(self.device, 4, 100, state="working", power_w=400.0)])
        self.assertEqual(session.seq_gap_count, 1)
        self.ingest_and_fold([ev.heartbeat(self.device, 3, uid, 90, 70.0, 0.0)])
        self.assertEqual(session.seq_gap_count, 0)
        self.assertFalse(session.needs_review)

    def test_late_events_flag_the_session(self):
        uid = self.new_session()
        old = fields.Datetime.now() - timedelta(hours=2)
        event = self.events.started(self.device, 1, uid, occurred_at=old)
        self.ingest_and_fold([event])
        session = self.session(uid)
        self.assertEqual(session.late_event_count, 1)
        self.assertTrue(session.needs_review)
        self.assertTrue(session.event_ids.is_late)

    def test_stop_after_odoo_timeout_replaces_odoo_figures(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.heartbeat(self.device, 2, uid, 60, 50.0, 10.0)])
        session = self.session(uid)
        session.last_event_at = fields.Datetime.now() - timedelta(hours=1)
        self.worker.last_seen_at = fields.Datetime.now() - timedelta(hours=1)
        self.env["workshop.session"]._cron_close_stale_sessions()
        self.assertEqual((session.state, session.stop_reason), ("timeout", "timeout"))
        self.assertTrue(session.closed_by_odoo)
        self.assertTrue(session.needs_review)
        self.ingest_and_fold([ev.stopped(self.device, 3, uid, 130, 90.0, 20.0)])
        self.assertEqual((session.state, session.stop_reason), ("done", "power_off"))
        self.assertFalse(session.closed_by_odoo)
        self.assertEqual(session.working_s, 90.0)

    def test_worker_timeout_stop_gives_timeout_state(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold(
            [ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 100, 80.0, 0.0, reason="timeout")],
        )
        self.assertEqual(self.session(uid).state, "timeout")
        self.assertEqual(self.device.live_state, "offline")

    def test_durations_stay_consistent(self):
        uid = self.new_session()
        # A worker bug reporting working + standby > total must not break the invariant.
        self.ingest_and_fold([self.events.heartbeat(self.device, 1, uid, 60, 50.0, 30.0, total_s=60.0)])
        session = self.session(uid)
        self.assertLessEqual(session.working_s + session.standby_s, session.total_s)
        self.assertGreaterEqual(session.total_s, 0.0)

    def test_invalid_event_is_rejected_alone(self):
        good = self.events.started(self.device, 1, self.new_session())
        bad = self.events.heartbeat(self.device, 2, self.new_session(), 60, 10.0, 0.0)
        bad["payload"]["working_s"] = -5
        other_worker = self.events.started(self.device, 3, self.new_session())
        other_worker["worker_uid"] = "someone-else"
        results = self.ingest_and_fold([good, bad, other_worker])
        self.assertEqual([r["status"] for r in results], ["accepted", "rejected", "rejected"])
        self.assertEqual(results[1]["code"], "EVENT_INVALID")
        self.assertEqual(results[1]["errors"][0]["path"], "/payload/working_s")
        self.assertEqual(results[2]["code"], "EVENT_WORKER_MISMATCH")

    def test_unknown_machine_is_stored_then_reprocessed(self):
        uid = self.new_session()
        results = self.ingest_and_fold([self.events.started("shelly-new", 1, uid)])
        self.assertEqual(results[0]["status"], "accepted")
        event = self.env["workshop.event"].search([("session_uid", "=", uid)])
        self.assertEqual(event.state, "error")
        self.assertFalse(self.session(uid))
        self.env["workshop.device"].create({"name": "New", "device_id": "shelly-new", "topic": "shelly-new",
                                            "worker_id": self.worker.id})
        event.action_reprocess()
        self.assertEqual(event.state, "processed")
        self.assertEqual(self.session(uid).device_id.device_id, "shelly-new")

    def test_stop_of_archived_machine_is_applied(self):
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device2, 1, uid)])
        self.device2.active = False
        self.ingest_and_fold([self.events.stopped(self.device2, 2, uid, 60, 60.0, 0.0, reason="removed")])
        self.assertEqual(self.session(uid).state, "done")
        self.assertEqual(self.session(uid).stop_reason, "removed")
