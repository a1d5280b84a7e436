from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from ..tools import billing
from .common import WorkshopIotCase


class TestBillingArithmetic(TransactionCase):
    def test_rounding_methods(self):
        self.assertEqual(billing.billing_units(16 * 60, 15, "up"), 2)
        self.assertEqual(billing.billing_units(16 * 60, 15, "down"), 1)
        self.assertEqual(billing.billing_units(16 * 60, 15, "nearest"), 1)
        self.assertEqual(billing.billing_units(22.5 * 60, 15, "nearest"), 2)  # half up
        self.assertEqual(billing.billing_units(22 * 60, 15, "nearest"), 1)

    def test_float_noise_on_a_boundary(self):
        self.assertEqual(billing.billing_units(899.9999999, 15, "up"), 1)
        self.assertEqual(billing.billing_units(900.0000001, 15, "up"), 1)
        self.assertEqual(billing.billing_units(1799.9999999, 15, "down"), 2)

    def test_minimum_applies_only_with_billable_time(self):
        self.assertEqual(billing.billing_units(60, 15, "up", min_units=2), 2)
        self.assertEqual(billing.billing_units(0, 15, "up", min_units=2), 0)

    def test_basis(self):
        self.assertEqual(billing.billable_seconds(100, 50, "working"), 100)
        self.assertEqual(billing.billable_seconds(100, 50, "working_standby"), 150)


@tagged("post_install", "-at_install")
class TestSessionBilling(WorkshopIotCase):
    def _closed_session(self, working_s, standby_s, seq=1):
        uid = self.new_session()
        ev = self.events
        total = int(working_s + standby_s) or 1
        self.ingest_and_fold([ev.started(self.device, seq, uid),
                              ev.stopped(self.device, seq + 1, uid, total, working_s, standby_s)])
        return self.session(uid)

    def test_closed_session_has_billing_figures(self):
        self.device.write({"billing_unit_minutes": 1, "billing_rounding": "up", "billing_price_unit": 2.5})
        session = self._closed_session(150.0, 30.0)
        self.assertEqual(session.billing_state, "to_bill")
        self.assertEqual(session.billable_s, 150.0)
        self.assertEqual(session.billing_units, 3)
        self.assertEqual(session.billing_amount, 7.5)

    def test_running_session_is_not_billable_yet(self):
        uid = self.new_session()
        self.ingest_and_fold([self.events.started(self.device, 1, uid)])
        session = self.session(uid)
        self.assertEqual(session.billing_state, "pending")
        with self.assertRaises(UserError):
            session.action_mark_billed()

    def test_policy_change_recomputes_only_sessions_not_billed(self):
        self.device.write({"billing_unit_minutes": 1, "billing_basis": "working"})
        billed = self._closed_session(120.0, 60.0, seq=1)
        open_ = self._closed_session(120.0, 60.0, seq=10)
        billed.action_mark_billed()
        self.assertEqual((billed.billing_units, open_.billing_units), (2, 2))
        self.device.write({"billing_basis": "working_standby"})
        self.assertEqual(open_.billing_units, 3)
        self.assertEqual(billed.billing_units, 2, "billed sessions keep their figures")
        self.assertEqual(billed.billing_state, "billed")

    def test_late_event_on_billed_session_is_flagged_not_rebilled(self):
        self.device.write({"billing_unit_minutes": 1})
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold([ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 120, 120.0, 0.0)])
        session = self.session(uid)
        session.action_mark_billed()
        self.ingest_and_fold([ev.stopped(self.device, 3, uid, 180, 180.0, 0.0)])
        self.assertEqual(session.billing_units, 2)
        self.assertTrue(session.changed_after_billing)
        self.assertTrue(session.needs_review)

    def test_managers_cannot_reset_billed_sessions(self):
        session = self._closed_session(60.0, 0.0)
        session.with_user(self.manager).action_mark_billed()
        self.assertEqual(session.billed_by_id, self.manager)
        with self.assertRaises(AccessError):
            session.with_user(self.manager).action_reset_billing()
        session.action_reset_billing()  # administrator
        self.assertEqual(session.billing_state, "to_bill")

    def test_staff_cannot_mark_billed(self):
        session = self._closed_session(60.0, 0.0)
        with self.assertRaises(AccessError):
            session.with_user(self.staff).action_mark_billed()
