from odoo.tests import tagged

from .common import MaintenanceCase


@tagged("post_install", "-at_install")
class TestBlockingRequest(MaintenanceCase):

    def blocking_request(self, **vals):
        return self.env["maintenance.request"].create({
            "name": "Replace the laser tube", "equipment_id": self.equipment.id, "workshop_blocking": True, **vals,
        })

    def alerts(self, device, condition):
        return device._alert_open(condition)

    def test_a_session_starting_on_a_blocked_machine_is_flagged_for_review(self):
        request = self.blocking_request()
        self.assertTrue(request.workshop_blocking_since)
        session = self.start_session(working_h=0.1, recent=True)
        self.assertTrue(session.maintenance_blocked)
        self.assertEqual(session.maintenance_request_id, request)
        self.assertIn("Replace the laser tube", session.maintenance_block_reason)
        self.assertTrue(session.needs_review, "the base module's review flag")
        self.assertIn("ran during blocking maintenance", session._review_reasons())
        blocked = self.alerts(self.device, "maintenance_blocked")
        self.assertEqual(len(blocked), 1)
        self.assertEqual(blocked.user_id, self.technician, "the equipment's technician gets the alert")
        self.assertEqual(self.alerts(self.device, "maintenance_used").summary, "Used during blocking maintenance")
        tile = self.device._dashboard_payload()[0]
        self.assertIn("Blocked for maintenance: Replace the laser tube", tile["alert"])
        flagged = self.env["workshop.session"].search([("maintenance_blocked", "=", True)])
        self.assertEqual(flagged, session, "the filter 'Ran during blocking maintenance'")
        # Once it ends, it cannot be billed before a manager's review.
        self.stop_session(session, 0.2)
        self.assertTrue(session.review_pending)

    def test_a_session_already_running_when_the_request_is_opened_is_flagged(self):
        session = self.start_session(working_h=0.1, recent=True)
        self.assertFalse(session.maintenance_blocked)
        self.blocking_request()
        self.assertTrue(session.maintenance_blocked)

    def test_a_done_request_blocks_nothing_and_closes_the_alerts(self):
        request = self.blocking_request()
        self.assertTrue(self.alerts(self.device, "maintenance_blocked"))
        request.stage_id = self.done_stage
        self.assertFalse(request.workshop_blocking_since)
        self.assertFalse(self.alerts(self.device, "maintenance_blocked"))
        session = self.start_session(working_h=0.1, recent=True)
        self.assertFalse(session.maintenance_blocked)
        self.assertNotIn("ran during blocking maintenance", session._review_reasons())

    def test_an_archived_or_non_blocking_request_blocks_nothing(self):
        self.blocking_request(archive=True)
        self.env["maintenance.request"].create({"name": "Oil the rails", "equipment_id": self.equipment.id})
        session = self.start_session(working_h=0.1, recent=True)
        self.assertFalse(session.maintenance_blocked)
        self.assertFalse(self.alerts(self.device, "maintenance_blocked"))

    def test_a_session_that_ended_before_the_request_is_not_flagged(self):
        ended = self.run_session(1.0)  # long ago
        self.blocking_request()
        self.assertFalse(ended.maintenance_blocked)

    def test_a_blocking_plan_makes_blocking_requests(self):
        self.plan(interval=10.0, blocking=True)
        self.run_session(12.0)
        request = self.requests()
        self.assertTrue(request.workshop_blocking)
        self.assertTrue(self.alerts(self.device, "maintenance_blocked"))
        session = self.start_session(working_h=0.1, recent=True)
        self.assertTrue(session.maintenance_blocked)

    def test_unlinking_the_machine_closes_its_alert(self):
        self.blocking_request()
        self.device.equipment_id = False
        self.assertFalse(self.alerts(self.device, "maintenance_blocked"))
        self.device.equipment_id = self.equipment
        self.assertTrue(self.alerts(self.device, "maintenance_blocked"))
