"""Review before billing (issue 16): the offline segment flag, the manager's review with a note, the
billing gate that names the sessions it refuses, and the review cleared by later changes."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import WorkshopIotCase


@tagged("post_install", "-at_install")
class TestSessionReview(WorkshopIotCase):
    def _closed(self, device, seq, reason="power_off", working_s=60.0):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold(
            [ev.started(device, seq, uid), ev.stopped(device, seq + 1, uid, 120, working_s, 0.0, reason=reason)],
        )
        return self.session(uid)

    # ------------------------------------------------------------------ offline segment
    def test_session_ended_by_timeout_has_an_offline_segment(self):
        timed_out = self._closed(self.device, 1, reason="timeout")
        clean = self._closed(self.device2, 1)
        self.assertTrue(timed_out.offline_segment)
        self.assertTrue(timed_out.needs_review)
        self.assertTrue(timed_out.review_pending)
        self.assertFalse(clean.offline_segment)
        self.assertFalse(clean.needs_review)

    def test_offline_report_during_the_session_flags_it_in_any_arrival_order(self):
        uid = self.new_session()
        ev = self.events
        # The machine went offline (seq 2) during the session; that report arrives last.
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.heartbeat(self.device, 3, uid, 60, 60.0, 0.0),
                              ev.stopped(self.device, 4, uid, 120, 100.0, 0.0)])
        session = self.session(uid)
        self.assertEqual((session.seq_gap_count, session.offline_segment), (1, False))
        self.ingest_and_fold([ev.offline(self.device, 2, 30)])
        self.assertEqual((session.seq_gap_count, session.offline_report_count), (0, 1))
        self.assertTrue(session.offline_segment)
        self.assertTrue(session.review_pending)
        # An offline report after the session ended is not the session's.
        later = self._closed(self.device, 10)
        self.ingest_and_fold([ev.offline(self.device, 12, 300)])
        self.assertFalse(later.offline_segment)

    # ------------------------------------------------------------------ billing gate
    def test_mark_billed_refuses_unreviewed_flagged_sessions_and_names_them(self):
        flagged = self._closed(self.device, 1, reason="timeout")
        clean = self._closed(self.device2, 1)
        sessions = (flagged | clean).with_user(self.manager)
        with self.assertRaises(UserError) as refused:
            sessions.action_mark_billed()
        message = str(refused.exception)
        self.assertIn(flagged.with_user(self.manager).display_name, message)  # machine + start time
        self.assertIn("Laser", message)
        self.assertIn(flagged.started_at.strftime("%M"), message)
        self.assertIn("offline segment", message)
        self.assertNotIn("Lathe", message, "only the refused sessions are named")
        self.assertEqual((flagged.billing_state, clean.billing_state), ("to_bill", "to_bill"), "nothing billed")

        flagged.with_user(self.manager).action_mark_reviewed("Meter rebooted; the saw ran until the end.")
        sessions.action_mark_billed()
        self.assertEqual((flagged.billing_state, clean.billing_state), ("billed", "billed"))

    def test_check_billable_is_the_gate_for_invoicing(self):
        flagged = self._closed(self.device, 1, reason="timeout")
        with self.assertRaisesRegex(UserError, "Laser"):
            flagged.with_user(self.manager)._check_billable()
        flagged.with_user(self.manager).action_mark_reviewed("ok")
        flagged._check_billable()  # no error once reviewed

    # ------------------------------------------------------------------ mark reviewed
    def test_review_is_for_managers_with_a_note_and_goes_to_the_chatter(self):
        session = self._closed(self.device, 1, reason="timeout")
        with self.assertRaises(AccessError):
            session.with_user(self.staff).action_mark_reviewed("looks fine")
        with self.assertRaisesRegex(UserError, "review note"):
            session.with_user(self.manager).action_mark_reviewed("   ")
        # The form's button (no note) opens the dialog that asks for one.
        action = session.with_user(self.manager).action_mark_reviewed()
        self.assertEqual(action["res_model"], "workshop.session.review")
        dialog = self.env["workshop.session.review"].with_user(self.manager).with_context(action["context"]).create(
            {"note": "Checked the machine log: the meter lost Wi-Fi for 2 minutes."})
        self.assertEqual(dialog.session_ids, session)
        dialog.action_confirm()
        self.assertEqual(session.reviewed_by_id, self.manager)
        self.assertTrue(session.reviewed_at)
        self.assertFalse(session.review_pending)
        self.assertTrue(session.needs_review, "the flags stay: they describe the data")
        bodies = session.message_ids.mapped("body")
        self.assertTrue(any("lost Wi-Fi" in body for body in bodies), bodies)

    def test_unflagged_and_running_sessions_are_not_reviewed(self):
        clean = self._closed(self.device, 1)
        with self.assertRaisesRegex(UserError, "nothing to review"):
            clean.with_user(self.manager).action_mark_reviewed("ok")
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device2, 1, uid)])
        with self.assertRaisesRegex(UserError, "Running"):
            self.session(uid).with_user(self.manager).action_mark_reviewed("ok")

    def test_a_billed_session_changed_after_billing_can_be_reviewed_by_a_manager(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 120, 120.0, 0.0)])
        session = self.session(uid)
        session.with_user(self.manager).action_mark_billed()
        self.ingest_and_fold([ev.stopped(self.device, 3, uid, 180, 180.0, 0.0)])
        self.assertTrue(session.review_pending)
        # Billed sessions are frozen for managers (record rule), yet the review is theirs to write.
        session.with_user(self.manager).action_mark_reviewed("The late stop is right; invoice corrected by hand.")
        self.assertFalse(session.review_pending)

    # ------------------------------------------------------------------ review cleared
    def test_a_later_change_clears_the_review(self):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 4, uid, 120, 90.0, 0.0)])
        session = self.session(uid)
        self.assertEqual(session.seq_gap_count, 2)
        session.with_user(self.manager).action_mark_reviewed("Two heartbeats lost, totals are cumulative.")
        self.assertFalse(session.review_pending)
        # A late heartbeat fills one hole: the session changed after the review.
        self.ingest_and_fold([ev.heartbeat(self.device, 2, uid, 60, 50.0, 0.0)])
        self.assertEqual(session.seq_gap_count, 1)
        self.assertFalse(session.reviewed_at)
        self.assertFalse(session.reviewed_by_id)
        self.assertTrue(session.review_pending)
        self.assertTrue(any("Review cleared" in body for body in session.message_ids.mapped("body")))
        with self.assertRaisesRegex(UserError, "Laser"):
            session.with_user(self.manager).action_mark_billed()
