from odoo.tests import tagged

from .common import MaintenanceCase


@tagged("post_install", "-at_install")
class TestPlanTrigger(MaintenanceCase):

    def test_hours_plan_creates_one_request_when_the_usage_crosses_it_with_the_usage_at_creation(self):
        plan = self.plan(interval=200.0, blocking=False)
        self.assertEqual(plan.baseline, 0.0)
        self.assertEqual(plan.next_due, 200.0)
        self.run_session(150.0)
        self.assertFalse(self.requests(), "150 h: not due yet")
        self.run_session(60.0)  # 210 h
        request = self.requests()
        self.assertEqual(len(request), 1)
        self.assertEqual(request.workshop_plan_id, plan)
        self.assertEqual(request.maintenance_type, "preventive")
        self.assertEqual(request.name, "Clean the lens (200 h)")
        self.assertAlmostEqual(request.workshop_usage_hours, 210.0, places=6)
        self.assertEqual(request.workshop_usage_sessions, 2)
        self.assertEqual(request.workshop_due_value, 200.0)
        self.assertEqual(request.workshop_skipped_count, 0)
        self.assertIn("Usage when this request was created: 210 working hours, 2 sessions.", str(request.description))
        self.assertEqual(request.maintenance_team_id, self.team)
        self.assertEqual(request.user_id, self.technician, "the equipment's technician")
        self.assertEqual(plan.baseline, 200.0, "counted from the crossing, not from 210 h")
        self.assertEqual(plan.next_due, 400.0)
        self.assertEqual(plan.last_request_id, request)

    def test_the_second_crossing_creates_a_second_request_at_the_next_due_value(self):
        plan = self.plan(interval=200.0)
        self.run_session(210.0)
        self.run_session(100.0)  # 310 h: still before 400
        self.assertEqual(len(self.requests(plan)), 1)
        self.run_session(95.0)  # 405 h
        first, second = self.requests(plan)
        self.assertEqual(first.workshop_due_value, 200.0)
        self.assertEqual(second.workshop_due_value, 400.0)
        self.assertAlmostEqual(second.workshop_usage_hours, 405.0, places=6)
        self.assertEqual(plan.next_due, 600.0, "previous due + interval: no drift from the 10 h overshoot")

    def test_checking_again_creates_nothing_new(self):
        plan = self.plan(interval=200.0)
        self.run_session(250.0)
        self.assertEqual(len(self.requests(plan)), 1)
        self.env["workshop.maintenance.plan"]._cron_check_usage()
        self.env["workshop.maintenance.plan"]._cron_check_usage()
        plan.action_check_now()
        self.run_session(1.0)  # another fold of the machine: 251 h
        self.assertEqual(len(self.requests(plan)), 1)
        self.assertEqual(plan.baseline, 200.0)

    def test_the_cron_creates_the_request_the_fold_did_not(self):
        plan = self.plan(interval=200.0)
        self.run_session(150.0)
        plan.interval = 100.0  # lowered: due at 100 h, already crossed, no fold since
        self.assertFalse(self.requests(plan))
        created = self.env["workshop.maintenance.plan"]._cron_check_usage()
        self.assertEqual(created, self.requests(plan))
        self.assertEqual(created.workshop_due_value, 100.0)

    def test_sessions_plan_counts_finished_sessions(self):
        plan = self.plan(metric="sessions", interval=3.0, request_name="Check the belts at {due}")
        self.run_session(1.0)
        self.run_session(1.0)
        running = self.start_session(working_h=0.2, recent=True)
        self.assertFalse(self.requests(plan), "2 finished sessions, a running one does not count yet")
        self.stop_session(running, 0.3)
        request = self.requests(plan)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.name, "Check the belts at 3 sessions")
        self.assertEqual(request.workshop_usage_sessions, 3)
        self.assertAlmostEqual(request.workshop_usage_hours, 2.3, places=6)
        self.assertEqual(plan.next_due, 6.0)

    def test_several_intervals_crossed_at_once_give_one_request_that_says_how_many_were_skipped(self):
        plan = self.plan(interval=50.0)
        self.run_session(170.0)
        request = self.requests(plan)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.workshop_due_value, 150.0)
        self.assertEqual(request.workshop_skipped_count, 2)
        self.assertIn("2 more interval(s) were crossed at once", str(request.description))
        self.assertEqual(plan.baseline, 150.0)
        self.assertEqual(plan.next_due, 200.0)

    def test_an_archived_plan_creates_nothing(self):
        plan = self.plan(interval=10.0, active=False)
        self.run_session(50.0)
        self.env["workshop.maintenance.plan"]._cron_check_usage()
        self.assertFalse(self.requests())
        self.assertEqual(plan.baseline, 0.0)

    def test_a_new_plan_counts_from_the_usage_when_it_is_created(self):
        self.run_session(120.0)
        plan = self.plan(interval=100.0)
        self.assertAlmostEqual(plan.baseline, 120.0, places=6)
        self.assertAlmostEqual(plan.current_usage, 120.0, places=6)
        self.run_session(90.0)  # 210 h: 90 h since the plan began
        self.assertFalse(self.requests(plan))
        self.run_session(15.0)  # 225 h
        self.assertAlmostEqual(self.requests(plan).workshop_due_value, 220.0, places=6)

    def test_a_session_closed_by_odoo_triggers_the_plan(self):
        plan = self.plan(metric="sessions", interval=1.0)
        running = self.start_session(working_h=0.25, recent=True)  # began 17 min ago
        self.assertFalse(self.requests(plan))
        self.worker.sudo().last_seen_at = False  # the worker went silent
        running.sudo().last_event_at = running.started_at
        closed = self.env["workshop.session"]._cron_close_stale_sessions()
        self.assertEqual(closed, running)
        self.assertEqual(len(self.requests(plan)), 1)

    def test_a_machine_of_another_equipment_does_not_move_this_plan(self):
        other = self.env["maintenance.equipment"].create({"name": "Lathe"})
        self.device2.equipment_id = other
        plan = self.plan(interval=10.0)
        self.run_session(50.0, device=self.device2)
        self.assertFalse(self.requests(plan))
        self.assertEqual(plan.current_usage, 0.0)
