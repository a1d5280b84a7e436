from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import WorkshopInvoicingCase


@tagged("post_install", "-at_install")
class TestInvoiceLifecycle(WorkshopInvoicingCase):
    def setUp(self):
        super().setUp()
        self.laser.billing_price_unit = 2.0
        self.s1 = self.make_session(self.laser, self.alice, 0, 30)
        self.s2 = self.make_session(self.lathe, self.alice, 1, 15)
        self.move = self.invoice(self.s1 | self.s2).moves
        self.move.invoice_date = "2026-01-31"

    def assertToBill(self, sessions):
        self.assertEqual(set(sessions.mapped("billing_state")), {"to_bill"})
        self.assertFalse(sessions.invoice_line_id)
        self.assertFalse(any(sessions.mapped("billed_at")))

    def test_cancelling_the_invoice_returns_sessions_to_bill(self):
        self.move.button_cancel()
        self.assertToBill(self.s1 | self.s2)
        # They can be invoiced again, on a new invoice.
        again = self.invoice(self.s1 | self.s2).moves
        self.assertNotEqual(again, self.move)
        self.assertEqual(self.s1.invoice_id, again)

    def test_cancelling_a_posted_invoice_returns_sessions_to_bill(self):
        self.move.action_post()
        self.move.button_cancel()
        self.assertEqual(self.move.state, "cancel")
        self.assertToBill(self.s1 | self.s2)

    def test_deleting_a_line_returns_its_session_to_bill(self):
        self.s1.invoice_line_id.unlink()
        self.assertToBill(self.s1)
        self.assertEqual(self.s2.billing_state, "billed")
        self.assertEqual(self.s2.invoice_id, self.move)

    def test_deleting_the_draft_invoice_returns_sessions_to_bill(self):
        self.move.unlink()
        self.assertToBill(self.s1 | self.s2)

    def test_release_recomputes_figures_under_the_current_policy(self):
        self.laser.billing_price_unit = 5.0  # billed sessions keep their figures...
        self.assertEqual(self.s1.billing_amount, 4.0)
        self.move.button_cancel()  # ...until they are to bill again
        self.assertEqual(self.s1.billing_amount, 10.0)

    def test_posted_invoice_freezes_its_sessions(self):
        self.move.action_post()
        self.assertTrue(self.s1.invoice_frozen)
        for vals in ({"member_id": self.bob.id}, {"billing_units": 9}, {"billing_state": "to_bill"}):
            with self.assertRaises(UserError) as caught:
                self.s1.write(vals)
            self.assertIn(self.move.name, str(caught.exception))
            self.assertIn(self.s1.display_name, str(caught.exception))
        # A late event's times are still recorded (and flagged), the billing figures are not touched.
        self.s1.write({"working_s": 3600.0, "changed_after_billing": True})
        self.assertEqual(self.s1.billing_units, 2)
        admin = new_test_user(
            self.env,
            login="inv-admin",
            groups="base.group_system,workshop_iot.workshop_iot_group_manager",
        )
        with self.assertRaises(UserError):
            self.s1.with_user(admin).action_reset_billing()
        with self.assertRaises(UserError) as caught:
            self.s1.with_user(admin).unlink()
        self.assertIn("cannot be deleted", str(caught.exception))

    def test_reset_to_draft_lifts_the_freeze_and_keeps_the_sessions(self):
        self.move.action_post()
        self.move.button_draft()
        self.assertFalse(self.s1.invoice_frozen)
        self.assertEqual(self.s1.billing_state, "billed")
        self.assertEqual(self.s1.invoice_id, self.move)
        self.s1.invoice_line_id.unlink()  # editable again: the line can go, and its session with it
        self.assertToBill(self.s1)

    def test_reset_billing_refuses_a_session_on_a_draft_invoice(self):
        admin = new_test_user(
            self.env,
            login="inv-admin2",
            groups="base.group_system,workshop_iot.workshop_iot_group_manager",
        )
        with self.assertRaises(UserError) as caught:
            self.s1.with_user(admin).action_reset_billing()
        self.assertIn("Cancel the invoice or delete its line", str(caught.exception))
        # A manager is refused before anything about the invoice is said.
        manager = new_test_user(self.env, login="inv-manager2", groups="workshop_iot.workshop_iot_group_manager")
        with self.assertRaises(AccessError) as refused:
            self.s1.with_user(manager).action_reset_billing()
        self.assertNotIn("Cancel the invoice", str(refused.exception))
