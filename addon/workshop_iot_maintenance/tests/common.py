from datetime import timedelta

from odoo import fields

from odoo.addons.workshop_iot.tests.common import EventFactory, WorkshopIotCase


class MaintenanceCase(WorkshopIotCase):
    """The base module's worker, machines and users, plus an equipment (the laser) with a technician,
    and a helper that runs whole sessions through ingest and the fold. Decouples the plan tests from
    event timing: each session starts where the previous one ended, far enough in the past."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Sessions of hundreds of hours lie in the past, before the test machines were created:
        # the wire check would refuse them as older than their machine.
        cls.env["ir.config_parameter"].sudo().set_param("workshop_iot.event_clock_skew_s", str(3 * 365 * 86400))
        cls.technician = cls.env["res.users"].create({
            "name": "Tess Technician", "login": "wiot-mnt-tech", "email": "tess@example.com",
            "groups_id": [(6, 0, [cls.env.ref("base.group_user").id])],
        })
        cls.team = cls.env["maintenance.team"].create({"name": "Workshop technicians"})
        cls.equipment = cls.env["maintenance.equipment"].create({
            "name": "CO2 laser", "technician_user_id": cls.technician.id, "maintenance_team_id": cls.team.id,
        })
        cls.device.equipment_id = cls.equipment
        cls.done_stage = cls.env["maintenance.stage"].search([("done", "=", True)], limit=1)

    def setUp(self):
        super().setUp()
        self._next_start = fields.Datetime.now().replace(microsecond=0) - timedelta(days=800)
        self._seq = {}

    def _factory(self, hours):
        factory = EventFactory(self.worker.worker_uid, self._next_start)
        self._next_start += timedelta(hours=hours + 1)
        return factory

    def _seqs(self, device, count):
        first = self._seq.get(device.id, 0) + 1
        self._seq[device.id] = first + count - 1
        return range(first, first + count)

    def run_session(self, working_h, device=None, standby_h=0.0):
        """A finished session of ``working_h`` working hours (and ``standby_h`` standby), folded."""
        device = device or self.device
        factory = self._factory(working_h + standby_h)
        uid = self.new_session()
        start_seq, stop_seq = self._seqs(device, 2)
        offset = int((working_h + standby_h) * 3600)
        self.ingest_and_fold([
            factory.started(device, start_seq, uid),
            factory.stopped(device, stop_seq, uid, offset, working_h * 3600.0, standby_h * 3600.0),
        ])
        return self.session(uid)

    def start_session(self, working_h=0.0, device=None, recent=False):
        """A running session with ``working_h`` working hours so far (its last heartbeat), folded.
        ``recent``: it started a few minutes ago (the blocking tests), else in the past sequence."""
        device = device or self.device
        factory = (EventFactory(self.worker.worker_uid, fields.Datetime.now().replace(microsecond=0)
                                - timedelta(seconds=int(working_h * 3600) + 120))
                   if recent else self._factory(working_h))
        uid = self.new_session()
        start_seq, beat_seq = self._seqs(device, 2)
        offset = int(working_h * 3600) + 60
        self.ingest_and_fold([
            factory.started(device, start_seq, uid),
            factory.heartbeat(device, beat_seq, uid, offset, working_h * 3600.0, 0.0),
        ])
        return self.session(uid)

    def stop_session(self, session, working_h, device=None):
        device = device or self.device
        (seq,) = self._seqs(device, 1)
        factory = EventFactory(self.worker.worker_uid, session.started_at)
        offset = int((fields.Datetime.now() - session.started_at).total_seconds())
        self.ingest_and_fold([factory.stopped(device, seq, session.session_uid, offset, working_h * 3600.0, 0.0)])

    def plan(self, **vals):
        return self.env["workshop.maintenance.plan"].create({
            "name": "Clean the lens", "equipment_id": self.equipment.id, "metric": "hours", "interval": 200.0,
            **vals,
        })

    def requests(self, plan=None):
        domain = [("equipment_id", "=", self.equipment.id)]
        if plan:
            domain.append(("workshop_plan_id", "=", plan.id))
        return self.env["maintenance.request"].search(domain, order="id")
