"""Multi-company (issue 16): machines, workers, brokers, sessions and events belong to a company; a
user of company A sees nothing of company B; relations across companies are refused; a worker of A
reaches only A's machines; the dashboard and its bus channel carry only the user's companies."""

import importlib.util
import json
import pathlib

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.bus.tests.common import WebsocketCase

from ..models.workshop_device_live import BUS_TYPE, DASHBOARD_SUBCHANNEL
from .common import EventFactory, WorkshopIotCase, capture_bus

MIGRATION = pathlib.Path(__file__).parents[1] / "migrations" / "18.0.1.2.0" / "post-migrate.py"
MODELS = ("workshop.device", "workshop.worker", "workshop.broker", "workshop.session", "workshop.event",
          "workshop.discovered.meter", "workshop.discovered.meter.channel")


@tagged("post_install", "-at_install")
class TestMultiCompany(WorkshopIotCase):
    """Company A is the main company of ``WorkshopIotCase``'s records; company B gets the same set."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].create({"name": "Workshop B"})
        b = {"company_id": cls.company_b.id, "company_ids": [cls.company_b.id]}
        a = {"company_id": cls.company_a.id, "company_ids": [cls.company_a.id]}
        cls.manager_a = new_test_user(cls.env, login="wiot-mc-manager-a",
                                      groups="workshop_iot.workshop_iot_group_manager", **a)
        cls.staff_a = new_test_user(
            cls.env,
            login="wiot-mc-staff-a",
            groups="workshop_iot.workshop_iot_group_user",
            **a,
        )
        cls.admin_a = new_test_user(cls.env, login="wiot-mc-admin-a",
                                    groups="base.group_system,workshop_iot.workshop_iot_group_manager", **a)
        cls.staff_ab = new_test_user(
            cls.env, login="wiot-mc-staff-ab", groups="workshop_iot.workshop_iot_group_user",
            company_id=cls.company_a.id, company_ids=[cls.company_a.id, cls.company_b.id])
        cls.worker_user_b = new_test_user(cls.env, login="wiot-mc-worker-b",
                                          groups="workshop_iot.workshop_iot_group_worker", **b)
        cls.broker_b = cls.env["workshop.broker"].create({
            "name": "B broker", "url": "mqtt://b.test:1883", "company_id": cls.company_b.id})
        cls.worker_b = cls.env["workshop.worker"].create({
            "name": "B PC", "worker_uid": "wk-mc-b", "user_id": cls.worker_user_b.id,
            "broker_id": cls.broker_b.id, "company_id": cls.company_b.id})
        cls.device_b = cls.env["workshop.device"].create({
            "name": "B laser", "device_id": "shelly-mc-b", "topic": "shelly-mc-b",
            "worker_id": cls.worker_b.id, "company_id": cls.company_b.id})
        cls.events_b = EventFactory("wk-mc-b", cls.t0)

    def ingest_b(self, events):
        worker_model = self.env["workshop.worker"].with_user(self.worker_user_b).sudo()
        return worker_model._rpc_ingest({"worker_uid": "wk-mc-b", "events": events})["results"]

    def run_both_workshops(self):
        """A closed session on A's laser and on B's laser, folded; the discovery of a meter by
        each worker. Returns (session A, session B)."""
        uid_a, uid_b = self.new_session(), self.new_session()
        self.ingest([self.events.started(self.device, 1, uid_a),
                     self.events.stopped(self.device, 2, uid_a, 120, 100.0, 20.0)])
        self.ingest_b([self.events_b.started(self.device_b, 1, uid_b),
                       self.events_b.stopped(self.device_b, 2, uid_b, 120, 100.0, 20.0)])
        self.fold_pending()
        for worker, user, key in ((self.worker, self.worker_user, "a"), (self.worker_b, self.worker_user_b, "b")):
            meter = {"family": "shelly_gen2", "device_key": "shellypro4pm-mc-%s" % key, "model": "Pro4PM",
                     "name": None, "parser_type": "shelly_gen2", "topic": "shellypro4pm-mc-%s" % key,
                     "channels": [{"channel": 0, "component": "switch:0", "measures": "power", "energy": True}]}
            self.env["workshop.discovered.meter"].with_user(user).sudo()._report(worker, [meter])
        return self.session(uid_a), self.session(uid_b)

    # ------------------------------------------------------------------ company of each record
    def test_sessions_and_events_take_the_company_of_their_machine_and_worker(self):
        session_a, session_b = self.run_both_workshops()
        self.assertEqual((session_a.company_id, session_b.company_id), (self.company_a, self.company_b))
        self.assertEqual(session_b.event_ids.company_id, self.company_b)
        self.assertEqual(len(session_b.event_ids), 2)
        self.assertEqual(session_a.event_ids.company_id, self.company_a)
        # A worker's event for a machine Odoo does not know is stored under the worker's company.
        self.ingest_b([self.events_b.online("shelly-mc-unknown", 1, 0)])
        unknown = self.env["workshop.event"].search([("device_key", "=", "shelly-mc-unknown")])
        self.assertEqual(unknown.company_id, self.company_b)

    def test_a_badge_reader_of_company_b_is_invisible_to_company_a(self):
        Reader = self.env["workshop.badge.reader"]
        reader_a = Reader.create({"name": "A door", "reader_id": "mc-reader-a", "device_id": self.device.id,
                                  "worker_id": self.worker.id, "topic": "tasmota_mc_a"})
        reader_b = Reader.create({"name": "B door", "reader_id": "mc-reader-b", "device_id": self.device_b.id,
                                  "worker_id": self.worker_b.id, "topic": "tasmota_mc_b"})
        visible = Reader.with_user(self.manager_a).search([])
        self.assertIn(reader_a, visible)
        self.assertNotIn(reader_b, visible)
        with self.assertRaises(AccessError):
            reader_b.with_user(self.manager_a).read(["name"])

    def test_defaults_are_the_current_company(self):
        Device = self.env["workshop.device"].with_user(self.admin_a)
        device = Device.create({"name": "Drill", "device_id": "shelly-mc-drill", "topic": "shelly-mc-drill"})
        self.assertEqual(device.company_id, self.company_a)
        worker = self.env["workshop.worker"].with_user(self.admin_a).create({"name": "PC 2", "worker_uid": "wk-mc-2"})
        self.assertEqual(worker.company_id, self.company_a)
        broker = self.env["workshop.broker"].with_company(self.company_b).create({"name": "Bb", "url": "mqtt://x:1883"})
        self.assertEqual(broker.company_id, self.company_b)

    # ------------------------------------------------------------------ isolation
    def test_a_user_of_company_a_sees_nothing_of_company_b(self):
        session_a, session_b = self.run_both_workshops()
        meter_b = self.env["workshop.discovered.meter"].search([("worker_id", "=", self.worker_b.id)])
        self.assertEqual(len(meter_b), 1)
        of_b = {
            "workshop.device": self.device_b, "workshop.worker": self.worker_b, "workshop.broker": self.broker_b,
            "workshop.session": session_b, "workshop.event": session_b.event_ids,
            "workshop.discovered.meter": meter_b, "workshop.discovered.meter.channel": meter_b.channel_ids,
        }
        for model in MODELS:
            with self.subTest(model=model):
                records = self.env[model].with_user(self.manager_a)
                visible = records.with_context(active_test=False).search([])
                self.assertTrue(visible, "the manager of A sees A's %s" % model)
                self.assertFalse(visible & of_b[model], "B's %s found by A's manager" % model)
                self.assertFalse(records.search_count([("id", "in", of_b[model].ids)]))
                with self.assertRaises(AccessError):
                    of_b[model].with_user(self.manager_a).read(["display_name"])
        # read_group (list totals, pivot) of sessions counts A's only.
        groups = self.env["workshop.session"].with_user(self.manager_a).read_group(
            [], ["working_hours:sum"], ["company_id"])
        self.assertEqual([g["company_id"][0] for g in groups], [self.company_a.id])
        # The session list of staff (read-only) as well.
        self.assertEqual(self.env["workshop.session"].with_user(self.staff_a).search([]), session_a)

    def test_a_user_of_both_companies_sees_the_companies_selected_in_the_switcher(self):
        session_a, session_b = self.run_both_workshops()
        Session = self.env["workshop.session"].with_user(self.staff_ab)
        self.assertEqual(Session.search([]), session_a | session_b)
        self.assertEqual(Session.with_context(allowed_company_ids=[self.company_b.id]).search([]), session_b)

    def test_dashboard_data_holds_only_the_users_companies_machines(self):
        self.run_both_workshops()
        tiles = self.env["workshop.device"].with_user(self.staff_a).dashboard_machines()
        self.assertEqual({t["device_id"] for t in tiles}, {"shelly-laser", "tasmota-lathe"})
        tiles = self.env["workshop.device"].with_user(self.staff_ab).dashboard_machines()
        self.assertEqual({t["device_id"] for t in tiles}, {"shelly-laser", "tasmota-lathe", "shelly-mc-b"})

    def test_live_state_goes_to_the_machines_company_channel_only(self):
        with capture_bus(self.env) as sent:
            self.ingest_b([self.events_b.online(self.device_b, 1, 0, state="working", power_w=300.0)])
            self.fold_pending()
        tiles = [(target, message) for target, kind, message in sent if kind == BUS_TYPE]
        self.assertEqual(
            [(t, m["device_id"]) for t, m in tiles],
            [((self.company_b, DASHBOARD_SUBCHANNEL), "shelly-mc-b")],
        )

    # ------------------------------------------------------------------ relations across companies
    def test_cross_company_relations_are_refused(self):
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.device.worker_id = self.worker_b
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.env["workshop.device"].create({
                "name": "Saw", "device_id": "shelly-mc-saw", "topic": "shelly-mc-saw",
                "worker_id": self.worker.id, "company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.worker_b.broker_id = self.broker
        member_b = self.env["res.partner"].create({"name": "Member of B", "company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.device.default_member_id = member_b
        # A broker without company is shared by every company's workers.
        self.broker.company_id = False
        self.worker_b.broker_id = self.broker
        self.assertEqual(self.worker_b.broker_id, self.broker)

    def test_a_worker_with_machines_cannot_move_to_another_company(self):
        self.worker.broker_id = False  # only the machines hold it back
        with self.assertRaisesRegex(ValidationError, "its machines Laser, Lathe belong to another company"):
            self.worker.company_id = self.company_b
        (self.device | self.device2).worker_id = False
        self.worker.company_id = self.company_b
        self.assertEqual(self.worker.company_id, self.company_b)

    def test_a_worker_of_company_a_cannot_ingest_for_company_bs_machine(self):
        uid = self.new_session()
        results = self.ingest([self.events.started(self.device_b, 1, uid, power_w=9999.0)])
        self.assertEqual((results[0]["status"], results[0]["code"]), ("rejected", "DEVICE_FORBIDDEN"))
        self.fold_pending()
        self.assertFalse(self.env["workshop.session"].search([("session_uid", "=", uid)]))
        self.assertEqual(self.device_b.live_state, "unknown")
        self.assertFalse(self.env["workshop.event"].search([("device_key", "=", "shelly-mc-b")]))

    # ------------------------------------------------------------------ integration user
    def test_integration_user_created_for_a_worker_is_a_user_of_its_company(self):
        worker = self.env["workshop.worker"].create({"name": "B PC 2", "worker_uid": "wk-mc-b2",
                                                     "company_id": self.company_b.id})
        key = worker._mint_api_key()
        self.assertTrue(key)
        self.assertEqual(worker.user_id.company_id, self.company_b)
        self.assertEqual(worker.user_id.company_ids, self.company_b)

    def test_a_worker_registering_itself_lands_in_its_users_company(self):
        user = new_test_user(self.env, login="wiot-mc-worker-b3", groups="workshop_iot.workshop_iot_group_worker",
                             company_id=self.company_b.id, company_ids=[self.company_b.id])
        worker = self.env["workshop.worker"].with_user(user).sudo()._rpc_worker_for("wk-mc-b3")
        self.assertEqual(worker.company_id, self.company_b)

    # ------------------------------------------------------------------ migration
    def test_migration_gives_rows_without_company_the_main_company(self):
        session_a, session_b = self.run_both_workshops()
        self.env.flush_all()
        tables = ("workshop_broker", "workshop_worker", "workshop_device", "workshop_session", "workshop_event")
        for table in tables:
            self.env.cr.execute("ALTER TABLE %s ALTER COLUMN company_id DROP NOT NULL" % table)  # noqa: S608
            self.env.cr.execute(
                "UPDATE %s SET company_id = NULL WHERE id IN (SELECT id FROM %s WHERE company_id = %%s)"  # noqa: S608
                % (table, table), [self.company_a.id])
        self.env.invalidate_all()
        self.assertFalse(session_a.company_id)
        spec = importlib.util.spec_from_file_location("workshop_iot_migrate_1_2", MIGRATION)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        counts = module.assign_main_company(self.env)
        self.assertTrue(all(counts[t] for t in tables), counts)
        self.assertEqual(session_a.company_id, self.company_a)
        self.assertEqual(session_a.event_ids.company_id, self.company_a)
        self.assertEqual((self.device.company_id, self.worker.company_id, self.broker.company_id),
                         (self.company_a,) * 3)
        self.assertEqual(session_b.company_id, self.company_b, "rows of another company are left alone")

    def test_fold_as_root_still_lands_sessions_on_bs_machine(self):
        # The fold cron runs as the superuser (no company restriction): B's sessions land on B.
        uid = self.new_session()
        self.ingest_b([self.events_b.started(self.device_b, 1, uid)])
        self.env["workshop.event"].with_company(self.company_a).sudo()._cron_fold_events()
        self.assertEqual(self.session(uid).company_id, self.company_b)


@tagged("post_install", "-at_install")
class TestDashboardChannelPerCompany(WebsocketCase):
    """Over a real websocket: a workshop user's dashboard receives the tiles of the machines of
    their own companies only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].create({"name": "Workshop B (bus)"})
        cls.staff_a = new_test_user(cls.env, login="wiot-bus-staff-a", groups="workshop_iot.workshop_iot_group_user",
                                    company_id=cls.company_a.id, company_ids=[cls.company_a.id])
        Worker, Device = cls.env["workshop.worker"], cls.env["workshop.device"]
        worker_a = Worker.create({"name": "A", "worker_uid": "wk-bus-a"})
        worker_b = Worker.create({"name": "B", "worker_uid": "wk-bus-b", "company_id": cls.company_b.id})
        cls.device_a = Device.create({"name": "A mill", "device_id": "shelly-bus-a", "topic": "shelly-bus-a",
                                      "worker_id": worker_a.id})
        cls.device_b = Device.create({"name": "B mill", "device_id": "shelly-bus-b", "topic": "shelly-bus-b",
                                      "worker_id": worker_b.id, "company_id": cls.company_b.id})

    def test_a_user_of_company_a_receives_no_tile_of_company_b(self):
        self.authenticate("wiot-bus-staff-a", "wiot-bus-staff-a")
        websocket = self.websocket_connect(cookie=f"session_id={self.session.sid}")
        self.subscribe(websocket, [], self.env["bus.bus"]._bus_last_id())
        self.device_b._notify_live_state()
        self.device_a._notify_live_state()
        self.trigger_notification_dispatching(
            [(self.company_a, DASHBOARD_SUBCHANNEL), (self.company_b, DASHBOARD_SUBCHANNEL)])
        notifications = json.loads(websocket.recv())
        tiles = [n["message"]["payload"]["device_id"] for n in notifications if n["message"]["type"] == BUS_TYPE]
        self.assertEqual(tiles, ["shelly-bus-a"])
