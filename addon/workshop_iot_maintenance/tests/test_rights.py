from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import MaintenanceCase


@tagged("post_install", "-at_install")
class TestMaintenanceRights(MaintenanceCase):

    def test_a_workshop_user_reads_plans_but_cannot_create_change_or_check_them(self):
        plan = self.plan()
        Plan = self.env["workshop.maintenance.plan"].with_user(self.staff)
        self.assertEqual(Plan.search([]), plan)
        with self.assertRaises(AccessError):
            Plan.create({"name": "Mine", "equipment_id": self.equipment.id, "interval": 5.0})
        with self.assertRaises(AccessError):
            plan.with_user(self.staff).write({"interval": 1.0})
        with self.assertRaises(AccessError):
            plan.with_user(self.staff).action_check_now()

    def test_workshop_and_maintenance_managers_manage_plans(self):
        plan = self.env["workshop.maintenance.plan"].with_user(self.manager).create({
            "name": "Belts", "equipment_id": self.equipment.id, "metric": "sessions", "interval": 50.0})
        plan.action_check_now()
        keeper = new_test_user(
            self.env,
            login="wiot-mnt-keeper",
            groups="base.group_user,maintenance.group_equipment_manager",
        )
        plan.with_user(keeper).write({"interval": 40.0})
        self.assertEqual(plan.next_due, 40.0)

    def test_an_internal_user_without_workshop_group_cannot_open_the_sessions(self):
        nobody = new_test_user(
            self.env,
            login="wiot-mnt-nobody",
            groups="base.group_user,maintenance.group_equipment_manager",
        )
        with self.assertRaises(AccessError):
            self.equipment.with_user(nobody).action_view_workshop_sessions()

    def test_plans_and_links_stay_in_their_company(self):
        other = self.env["res.company"].create({"name": "Other workshop"})
        foreign = self.env["maintenance.equipment"].create({"name": "Their laser", "company_id": other.id})
        foreign_plan = self.env["workshop.maintenance.plan"].create({
            "name": "Theirs", "equipment_id": foreign.id, "interval": 10.0})
        own_plan = self.plan()
        self.manager.company_ids = [(4, self.env.company.id)]
        visible = self.env["workshop.maintenance.plan"].with_user(self.manager).search([])
        self.assertEqual(visible, own_plan)
        self.assertEqual(foreign_plan.company_id, other)
        with self.assertRaises(UserError):
            self.device.equipment_id = foreign  # a machine of this company, equipment of the other


@tagged("post_install", "-at_install")
class TestFormsOpenForEachRole(MaintenanceCase):
    """The equipment, request and session forms, with this module's fields, open for every role that
    sees the record (fields of models a role may not read are hidden from it, not failing the form)."""

    def test_forms_open(self):
        self.plan(interval=10.0, blocking=True)
        self.run_session(12.0)
        request = self.requests()
        session = self.start_session(working_h=0.1, recent=True)
        self.assertTrue(session.maintenance_blocked)
        keeper = new_test_user(
            self.env,
            login="wiot-mnt-keeper2",
            groups="base.group_user,maintenance.group_equipment_manager",
        )
        follower = new_test_user(self.env, login="wiot-mnt-follower", groups="base.group_user")
        self.equipment.message_subscribe(partner_ids=follower.partner_id.ids)
        request.message_subscribe(partner_ids=(follower | self.staff | self.manager).partner_id.ids)
        for user in (self.staff, self.manager, keeper, follower):
            with self.subTest(user=user.login):
                Form(self.equipment.with_user(user))
                Form(request.with_user(user))
        for user in (self.staff, self.manager):
            with self.subTest(user=user.login):
                form = Form(session.with_user(user))
                self.assertTrue(form.maintenance_blocked)
