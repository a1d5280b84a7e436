"""Discovered meters (issue 15): ``discovery.report`` over real HTTP with worker keys, the isolation
of one worker's key from another's meters, Ignore / Forget, and **Add as machine** pre-filling the
machine form (``odoo.tests.Form``) without changing any machine before it is saved."""

import copy

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from ..models.workshop_discovered_meter import machine_device_id
from .rpc_http_common import RpcHttpCase

PRO4PM = {
    "family": "shelly_gen2",
    "device_key": "shellypro4pm-a8032ab12345",
    "model": "Pro4PM (SPSW-004PE16EU)",
    "name": None,
    "parser_type": "shelly_gen2",
    "topic": "shellypro4pm-a8032ab12345",
    "channels": [
        {"channel": 0, "component": "switch:0", "measures": "power", "energy": True},
        {"channel": 2, "component": "switch:2", "measures": "power", "energy": True},
    ],
}
PRO3EM = {
    "family": "shelly_gen2",
    "device_key": "shellypro3em-fce8c0d82d48",
    "model": "Pro3EM (SPEM-003CEBEU)",
    "name": "Compressor feed",
    "parser_type": "shelly_gen2",
    "topic": "shellypro3em-fce8c0d82d48",
    "channels": [{"channel": 0, "component": "em:0", "measures": "three_phase", "energy": True}],
}
DUAL_R3 = {
    "family": "tasmota",
    "device_key": "94B97E682B78",
    "model": "Sonoff Dual R3",
    "name": "Dual",
    "parser_type": "tasmota",
    "topic": "tasmota_682B78",
    "tasmota_full_topic": "shop/%topic%/%prefix%/",
    "channels": [
        {"channel": 0, "component": "ENERGY.Power[0]", "measures": "power", "energy": True},
        {"channel": 1, "component": "ENERGY.Power[1]", "measures": "power", "energy": True},
    ],
}
Z2M_PLUG = {
    "family": "zigbee2mqtt",
    "device_key": "0x0017880104e45524",
    "model": "Xiaomi ZNCZ02LM",
    "name": "Office Wall Plug",
    "parser_type": "generic_json",
    "topic": "zigbee2mqtt/Office Wall Plug",
    "channels": [{"channel": 0, "component": "power", "measures": "power", "energy": True,
                  "value_path": "power", "energy_path": "energy"}],
}


@tagged("post_install", "-at_install")
class TestDiscoveryReport(RpcHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a, cls.key_a = cls.new_worker_user("wiot-disc-a")
        cls.user_b, cls.key_b = cls.new_worker_user("wiot-disc-b")
        Worker = cls.env["workshop.worker"]
        cls.worker_a = Worker.create({"name": "A", "worker_uid": "wk-disc-a", "user_id": cls.user_a.id})
        cls.worker_b = Worker.create({"name": "B", "worker_uid": "wk-disc-b", "user_id": cls.user_b.id})
        cls.Meter = cls.env["workshop.discovered.meter"]

    def report(self, key, worker_uid, meters):
        doc = self.rpc(key, "discovery.report", {"worker_uid": worker_uid, "meters": meters})
        self.env.invalidate_all()
        return doc

    def meters_of(self, worker):
        return self.Meter.search([("worker_id", "=", worker.id)])

    def test_report_creates_meters_with_channels_then_upserts(self):
        doc = self.report(self.key_a, "wk-disc-a", [PRO4PM, DUAL_R3])
        self.assertEqual(doc["result"], {"ok": True, "ignored": []})
        meters = self.meters_of(self.worker_a)
        self.assertEqual(sorted(meters.mapped("device_key")), ["94B97E682B78", "shellypro4pm-a8032ab12345"])
        pro = meters.filtered(lambda m: m.family == "shelly_gen2")
        self.assertEqual((pro.topic, pro.parser_type, pro.model_name, pro.state),
                         ("shellypro4pm-a8032ab12345", "shelly_gen2", "Pro4PM (SPSW-004PE16EU)", "new"))
        self.assertEqual(pro.channel_ids.mapped("component"), ["switch:0", "switch:2"])
        dual = meters - pro
        self.assertEqual(dual.tasmota_full_topic, "shop/%topic%/%prefix%/")
        first_seen = pro.first_seen_at
        # Reported again, with a channel more: the same record, its channels replaced, nothing doubled.
        again = copy.deepcopy(PRO4PM)
        again["channels"].append({"channel": 3, "component": "switch:3", "measures": "power", "energy": True})
        self.report(self.key_a, "wk-disc-a", [again])
        self.assertEqual(self.meters_of(self.worker_a), meters)
        self.assertEqual(pro.channel_ids.mapped("channel"), [0, 2, 3])
        self.assertEqual(pro.first_seen_at, first_seen)
        self.assertTrue(pro.last_seen_at >= first_seen)
        # Nothing about machines changed.
        self.assertFalse(self.env["workshop.device"].search_count([("topic", "=", PRO4PM["topic"])]))

    def test_a_key_reaches_only_its_own_workers_meters(self):
        self.report(self.key_a, "wk-disc-a", [PRO4PM])
        before = self.meters_of(self.worker_a).read(["topic", "model_name", "last_seen_at"])
        forged = dict(PRO4PM, topic="evil-topic", model="forged")
        doc = self.report(self.key_b, "wk-disc-a", [forged])
        self.assertEqual(doc["error"]["data"]["code"], "WORKER_FORBIDDEN")
        self.assertEqual(self.meters_of(self.worker_a).read(["topic", "model_name", "last_seen_at"]), before)
        # B reporting the same device for itself gets its own record; A's stays as it was.
        self.report(self.key_b, "wk-disc-b", [forged])
        self.assertEqual(self.meters_of(self.worker_b).topic, "evil-topic")
        self.assertEqual(self.meters_of(self.worker_a).read(["topic", "model_name", "last_seen_at"]), before)

    def test_an_ignored_meter_stays_ignored_and_is_named_in_the_answer(self):
        self.report(self.key_a, "wk-disc-a", [Z2M_PLUG])
        meter = self.meters_of(self.worker_a)
        meter.with_user(self.manager_user()).action_ignore()
        doc = self.report(self.key_a, "wk-disc-a", [dict(Z2M_PLUG, name="Renamed plug")])
        self.assertEqual(doc["result"]["ignored"], [{"family": "zigbee2mqtt", "device_key": "0x0017880104e45524"}])
        self.assertEqual(meter.state, "ignored")
        action = self.env.ref("workshop_iot.workshop_discovered_meter_action")
        self.assertIn("search_default_not_ignored", action.context)
        self.assertFalse(self.Meter.search([("state", "!=", "ignored"), ("worker_id", "=", self.worker_a.id)]))

    def test_a_forgotten_meter_is_gone_and_comes_back_as_new_when_reported_again(self):
        self.report(self.key_a, "wk-disc-a", [PRO3EM])
        self.meters_of(self.worker_a).with_user(self.manager_user()).action_forget()
        self.assertFalse(self.meters_of(self.worker_a))
        self.report(self.key_a, "wk-disc-a", [PRO3EM])
        self.assertEqual(self.meters_of(self.worker_a).state, "new")

    def test_bad_params_are_refused_with_the_field(self):
        bad = dict(PRO4PM, channels=[])
        doc = self.report(self.key_a, "wk-disc-a", [bad])
        self.assertEqual(doc["error"]["data"]["code"], "INVALID_PARAMS")
        self.assertIn({"path": "/meters/0/channels", "message": "must have at least 1 items"},
                      doc["error"]["data"]["errors"])
        self.assertFalse(self.meters_of(self.worker_a))

    def manager_user(self):
        user = self.env["res.users"].search([("login", "=", "wiot-disc-manager")])
        if not user:
            from odoo.tests import new_test_user

            user = new_test_user(self.env, login="wiot-disc-manager", groups="workshop_iot.workshop_iot_group_manager")
        return user


@tagged("post_install", "-at_install")
class TestDiscoveredMeterActions(RpcHttpCase):
    """Add as machine, rights, already-added marks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from odoo.tests import new_test_user

        cls.worker_user, _key = cls.new_worker_user("wiot-disc-act")
        cls.worker = cls.env["workshop.worker"].create(
            {"name": "W", "worker_uid": "wk-disc-act", "user_id": cls.worker_user.id})
        cls.manager = new_test_user(cls.env, login="wiot-disc-mgr", groups="workshop_iot.workshop_iot_group_manager")
        cls.staff = new_test_user(cls.env, login="wiot-disc-staff", groups="workshop_iot.workshop_iot_group_user")
        Meter = cls.env["workshop.discovered.meter"].sudo()
        Meter._report(cls.worker, [PRO4PM, PRO3EM, DUAL_R3, Z2M_PLUG])
        cls.meter = {m.device_key: m for m in Meter.search([("worker_id", "=", cls.worker.id)])}

    def channel(self, key, number):
        return self.meter[key].channel_ids.filtered(lambda c: c.channel == number).with_user(self.manager)

    def form_from(self, channel):
        action = channel.action_add_machine()
        self.assertEqual((action["res_model"], action["view_mode"]), ("workshop.device", "form"))
        return Form(self.env["workshop.device"].with_user(self.manager).with_context(action["context"]))

    def test_add_as_machine_prefills_a_multi_channel_shelly_channel(self):
        form = self.form_from(self.channel("shellypro4pm-a8032ab12345", 2))
        self.assertEqual(form.device_id, "shellypro4pm-a8032ab12345:2")
        self.assertEqual((form.parser_type, form.topic, form.channel), ("shelly_gen2", "shellypro4pm-a8032ab12345", 2))
        self.assertEqual(form.worker_id, self.worker)
        self.assertEqual(form.name, "Pro4PM (SPSW-004PE16EU) - channel 2")
        self.assertFalse(self.channel("shellypro4pm-a8032ab12345", 2).added)
        form.save()
        self.assertTrue(self.channel("shellypro4pm-a8032ab12345", 2).added)
        self.assertFalse(self.channel("shellypro4pm-a8032ab12345", 0).added)

    def test_add_as_machine_prefills_three_phase_tasmota_and_zigbee(self):
        form = self.form_from(self.channel("shellypro3em-fce8c0d82d48", 0))
        self.assertEqual((form.device_id, form.phase, form.name),
                         ("shellypro3em-fce8c0d82d48", "total", "Compressor feed"))
        form = self.form_from(self.channel("94B97E682B78", 1))
        self.assertEqual((form.device_id, form.parser_type, form.topic, form.channel, form.tasmota_full_topic),
                         ("94B97E682B78:1", "tasmota", "tasmota_682B78", 1, "shop/%topic%/%prefix%/"))
        form = self.form_from(self.channel("0x0017880104e45524", 0))
        self.assertEqual((form.parser_type, form.topic, form.generic_field_path, form.generic_energy_path,
                          form.generic_energy_unit),
                         ("generic_json", "zigbee2mqtt/Office Wall Plug", "power", "energy", "kWh"))
        form.save()
        self.assertTrue(self.channel("0x0017880104e45524", 0).added)

    def test_only_managers_act_on_discovered_meters(self):
        meter = self.meter["shellypro3em-fce8c0d82d48"]
        with self.assertRaises(AccessError):
            meter.channel_ids.with_user(self.staff).action_add_machine()
        for action in ("action_ignore", "action_forget", "action_restore"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(meter.with_user(self.staff), action)()
        with self.assertRaises(AccessError):
            self.env["workshop.discovered.meter"].with_user(self.staff).search([])
        with self.assertRaises(AccessError):
            self.env["workshop.discovered.meter"].with_user(self.worker_user).search([])
        menu = self.env.ref("workshop_iot.workshop_discovered_meter_menu")
        self.assertEqual(menu.group_ids if "group_ids" in menu._fields else menu.groups_id,
                         self.env.ref("workshop_iot.workshop_iot_group_manager"))

    def test_machine_device_id_is_always_a_valid_device_id(self):
        self.assertEqual(machine_device_id("shellies/shellyem3", 0, False), "shellies-shellyem3")
        self.assertEqual(machine_device_id("x" * 80, 12, True), "x" * 61 + ":12")
