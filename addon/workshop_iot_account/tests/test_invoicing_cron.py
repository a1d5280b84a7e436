import logging
from datetime import datetime

from odoo.tests import tagged

from .common import WorkshopInvoicingCase

# The level as a number: Odoo's test log names its level 25 "INFO" too, and assertLogs would take that.
LOGGER = "odoo.addons.workshop_iot_account"


@tagged("post_install", "-at_install")
class TestScheduledInvoicing(WorkshopInvoicingCase):
    def test_off_by_default(self):
        self.make_session(self.laser, self.alice, 0, 15)
        self.assertEqual(self.env.company.workshop_invoice_schedule, "off")
        self.assertEqual(self.env["workshop.session"]._cron_create_invoices(now=datetime(2026, 2, 2, 12)), {})

    def test_weekly_run_invoices_the_past_weeks_sessions_once(self):
        self.env.company.workshop_invoice_schedule = "weekly"
        last_week = self.make_session(self.laser, self.alice, 0, 15)        # Mon 2026-01-05
        this_week = self.make_session(self.laser, self.alice, 24 * 7, 15)   # Mon 2026-01-12 09:00 local
        no_member = self.make_session(self.laser, False, 1, 15)
        flagged = self.make_session(self.laser, self.bob, 2, 15, late_event_count=1)
        sessions = self.env["workshop.session"]
        # Wednesday 2026-01-14: the week began on Monday the 12th, 00:00 Brussels = Sunday 23:00 UTC.
        with self.assertLogs(LOGGER, logging.INFO) as logs:
            results = sessions._cron_create_invoices(now=datetime(2026, 1, 14, 10))
        result = results[self.env.company]
        self.assertEqual(result.invoiced, last_week)
        self.assertEqual(last_week.invoice_id.partner_id, self.alice)
        self.assertEqual((this_week | no_member | flagged).mapped("billing_state"), ["to_bill"] * 3)
        self.assertEqual(self.env.company.workshop_invoice_cutoff, datetime(2026, 1, 11, 23))
        log = "\n".join(logs.output)
        self.assertIn("no member: %s" % no_member.display_name, log)
        self.assertIn("not reviewed: %s" % flagged.display_name, log)
        # Later the same week: nothing to do. The next week: this week's session.
        self.assertEqual(sessions._cron_create_invoices(now=datetime(2026, 1, 16, 10)), {})
        with self.assertLogs(LOGGER, logging.INFO):
            results = sessions._cron_create_invoices(now=datetime(2026, 1, 19, 10))
        self.assertEqual(results[self.env.company].invoiced, this_week)

    def test_monthly_run(self):
        self.env.company.write({"workshop_invoice_schedule": "monthly", "workshop_invoice_grouping": "machine"})
        january = self.make_session(self.laser, self.alice, 0, 15) | self.make_session(self.laser, self.alice, 48, 15)
        february = self.make_session(self.laser, self.alice, 24 * 30, 15)  # 2026-02-04
        # First run, in January: the period before (December) has nothing to bill.
        results = self.env["workshop.session"]._cron_create_invoices(now=datetime(2026, 1, 31, 10))
        self.assertFalse(results[self.env.company].invoiced)
        self.assertEqual(set((january | february).mapped("billing_state")), {"to_bill"})
        with self.assertLogs(LOGGER, logging.INFO):
            results = self.env["workshop.session"]._cron_create_invoices(now=datetime(2026, 2, 10, 10))
        self.assertEqual(results[self.env.company].invoiced, january)
        self.assertEqual(len(january.invoice_line_id), 1)  # one line for the machine and the month
        self.assertEqual(january.invoice_line_id.quantity, 2.0)
        self.assertEqual(february.billing_state, "to_bill")

    def test_the_cron_record_runs_the_scheduled_invoicing(self):
        cron = self.env.ref("workshop_iot_account.ir_cron_create_invoices")
        self.assertEqual(cron.code.strip(), "model._cron_create_invoices()")
        self.env.company.workshop_invoice_schedule = "monthly"
        old = self.make_session(self.laser, self.alice, 0, 15)  # January 2026: before any run's month
        with self.assertLogs(LOGGER, logging.INFO):
            cron.method_direct_trigger()
        self.assertEqual(old.billing_state, "billed")
