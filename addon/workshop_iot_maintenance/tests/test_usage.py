from odoo.tests import tagged

from .common import MaintenanceCase


@tagged("post_install", "-at_install")
class TestEquipmentUsage(MaintenanceCase):

    def test_working_hours_and_sessions_come_from_the_linked_machines_sessions(self):
        self.run_session(3.0, standby_h=1.0)
        self.run_session(1.5)
        self.run_session(7.0, device=self.device2)  # not linked: not the laser's usage
        self.equipment.invalidate_recordset()
        self.assertAlmostEqual(self.equipment.workshop_working_hours, 4.5, places=6,
                               msg="working time only: the hour of standby does not count")
        self.assertEqual(self.equipment.workshop_session_count, 2)

    def test_a_running_session_counts_its_hours_so_far_and_counts_as_a_session_once_ended(self):
        self.run_session(2.0)
        running = self.start_session(working_h=0.5, recent=True)
        self.equipment.invalidate_recordset()
        self.assertAlmostEqual(self.equipment.workshop_working_hours, 2.5, places=6)
        self.assertEqual(self.equipment.workshop_session_count, 1, "the running session is not counted yet")
        self.stop_session(running, 0.75)
        self.equipment.invalidate_recordset()
        self.assertAlmostEqual(self.equipment.workshop_working_hours, 2.75, places=6)
        self.assertEqual(self.equipment.workshop_session_count, 2)

    def test_two_machines_of_one_equipment_add_up(self):
        self.device2.equipment_id = self.equipment
        self.run_session(1.0)
        self.run_session(2.0, device=self.device2)
        self.equipment.invalidate_recordset()
        self.assertAlmostEqual(self.equipment.workshop_working_hours, 3.0, places=6)
        self.assertEqual(self.equipment.workshop_session_count, 2)
        self.assertEqual(self.equipment.workshop_device_ids, self.device | self.device2)

    def test_the_sessions_button_lists_the_machines_sessions(self):
        first = self.run_session(1.0)
        self.run_session(1.0, device=self.device2)
        action = self.equipment.with_user(self.staff).action_view_workshop_sessions()
        sessions = self.env["workshop.session"].with_user(self.staff).search(action["domain"])
        self.assertEqual(sessions, first)
