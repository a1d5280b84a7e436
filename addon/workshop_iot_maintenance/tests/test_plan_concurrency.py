import uuid
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestPlanConcurrency(TransactionCase):
    """Two transactions checking one plan at the same time (two folds, the fold and the cron) create
    one request. Real transactions on committed rows (removed at the end)."""

    def setUp(self):
        super().setUp()
        self.crs = []
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            equipment = env["maintenance.equipment"].create({"name": "Race laser"})
            device = env["workshop.device"].create({
                "name": "Race laser", "device_id": "race-laser", "topic": "race-laser", "equipment_id": equipment.id})
            started = fields.Datetime.now() - timedelta(hours=30)
            session = env["workshop.session"].create({
                "session_uid": str(uuid.uuid4()), "device_id": device.id, "started_at": started,
                "ended_at": started + timedelta(hours=25), "state": "done", "total_s": 25 * 3600.0,
                "working_s": 25 * 3600.0, "has_start_event": True, "has_stop_event": True})
            plan = env["workshop.maintenance.plan"].create({
                "name": "Race", "equipment_id": equipment.id, "interval": 20.0, "baseline": 0.0})
            self.ids = {"equipment": equipment.id, "device": device.id, "session": session.id, "plan": plan.id}
        self.addCleanup(self._remove)

    def _remove(self):
        for cr in self.crs:
            cr.rollback()
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["maintenance.request"].search([("equipment_id", "=", self.ids["equipment"])]).unlink()
            env["workshop.maintenance.plan"].browse(self.ids["plan"]).unlink()
            env["workshop.session"].browse(self.ids["session"]).unlink()
            env["workshop.device"].browse(self.ids["device"]).unlink()
            env["maintenance.equipment"].browse(self.ids["equipment"]).unlink()

    def _env(self):
        """An environment on a new cursor; a statement waiting for a lock fails within 5 s."""
        cr = self.registry.cursor()
        self.crs.append(cr)
        cr.execute("SET LOCAL statement_timeout = 5000")
        return api.Environment(cr, SUPERUSER_ID, {})

    def _committed_requests(self):
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT count(*) FROM maintenance_request WHERE workshop_plan_id = %s", self.ids["plan"]))
            return cr.fetchone()[0]

    def test_a_check_while_another_holds_the_plan_leaves_it_to_that_one(self):
        first, second = self._env(), self._env()
        created = first["workshop.maintenance.plan"].browse(self.ids["plan"])._trigger_due()
        self.assertEqual(len(created), 1)
        # The row is locked by the first check (LockNotAvailable, NOWAIT): no second request, no wait.
        again = second["workshop.maintenance.plan"].browse(self.ids["plan"])._trigger_due()
        self.assertFalse(again)
        first.cr.commit()
        second.cr.commit()
        self.assertEqual(self._committed_requests(), 1)

    def test_a_check_whose_snapshot_predates_the_others_commit_creates_nothing(self):
        first, second = self._env(), self._env()
        plan_late = second["workshop.maintenance.plan"].browse(self.ids["plan"])
        self.assertEqual(plan_late.next_due, 20.0)  # the second transaction's snapshot is taken
        first["workshop.maintenance.plan"].browse(self.ids["plan"])._trigger_due()
        first.cr.commit()
        # Its snapshot still says "due at 20 h"; the lock finds the row changed (SerializationFailure).
        self.assertFalse(plan_late._trigger_due())
        second.cr.commit()
        self.assertEqual(self._committed_requests(), 1)
        # A later check (a new transaction) sees the moved baseline and creates nothing either.
        third = self._env()
        self.assertFalse(third["workshop.maintenance.plan"].browse(self.ids["plan"])._trigger_due())
        self.assertEqual(third["workshop.maintenance.plan"].browse(self.ids["plan"]).baseline, 20.0)
