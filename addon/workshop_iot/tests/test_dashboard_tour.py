"""The dashboard client action in a real browser against this Odoo: it loads for a workshop user,
shows every machine, recovers after a bus reconnect with a state changed through the ingest route,
and opens a machine's sessions; with no machine it says how to add the first one; a meter never
heard from shows no power, a silent one "no data since".

Odoo refuses websockets while tests run (``WebsocketConnectionHandler.websocket_allowed``), so the
live notification itself is checked on the server side here (the bus row the ingest queued for the
workshop user group) and in the browser by web/test/odoo/live-dashboard.mjs against a running Odoo.
"""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.workshop_device_live import DASHBOARD_SUBCHANNEL
from .common import browser_script, wire_ts

BUS_TYPE = "workshop_iot/device_state"


def dashboard_channel(env, company):
    """The bus row's channel of ``company``'s dashboard (models/workshop_device_live.py)."""
    return json.dumps([env.cr.dbname, "res.company", company.id, DASHBOARD_SUBCHANNEL], separators=(",", ":"))


# The dashboard walk-through (constants KEY and STATUS come from the test).
BROWSER_BODY = """
        const tile = (id) => document.querySelector(`.o_workshop_iot_tile[data-device-id="${id}"]`);
        window.__workshopIotNoReload = true;
        await waitFor(() => tile("dash-laser") && tile("dash-lathe"), "both tiles");
        if (!tile("dash-laser").textContent.includes("Laser")) throw new Error("name missing");
        const titles = [...document.querySelectorAll(".o_workshop_iot_area_title")].map((el) => el.textContent);
        if (!titles.some((t) => t.includes("Hall A"))) throw new Error(`area titles: ${titles}`);

        // A bus outage during which the laser starts working: only the reload after the
        // reconnect can show it.
        const bus = odoo.__WOWL_DEBUG__.root.env.services.bus_service;
        bus.trigger("disconnect", { code: 1006 });
        await waitFor(
            () => document.querySelector('.o_workshop_iot_connection[data-online="false"]'), "offline status");
        const response = await fetch("/workshop_iot/rpc", {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "worker.status", params: STATUS }),
        });
        const answer = await response.json();
        if (!answer.result || !answer.result.ok) throw new Error(`ingest: ${JSON.stringify(answer)}`);
        bus.trigger("reconnect");
        await waitFor(() => tile("dash-laser").dataset.state === "working", "working state after reconnect");
        const power = tile("dash-laser").querySelector(".o_workshop_iot_power").textContent;
        if (power.trim() !== "1.25 kW") throw new Error(`power shown: ${power}`);
        if (!window.__workshopIotNoReload) throw new Error("the page reloaded");

        tile("dash-laser").querySelector(".o_workshop_iot_tile_open").click();
        await waitFor(() => document.querySelector(".o_list_renderer"), "sessions list");
        const crumbs = document.querySelector(".o_breadcrumb").textContent;
        if (!crumbs.includes("Laser")) throw new Error(`breadcrumb: ${crumbs}`);
"""

# An open alert of the laser (issue 17): a banner in words on its tile, none on the lathe's.
ALERT_BODY = """
        const tile = (id) => document.querySelector(`.o_workshop_iot_tile[data-device-id="${id}"]`);
        await waitFor(() => tile("dash-laser") && tile("dash-lathe"), "both tiles");
        const banner = tile("dash-laser").querySelector(".o_workshop_iot_alert[role=alert]");
        if (!banner) throw new Error("no alert banner on the laser");
        if (!banner.textContent.includes("Session longer than 4.0 h")) throw new Error(`banner: ${banner.textContent}`);
        if (tile("dash-lathe").querySelector(".o_workshop_iot_alert")) throw new Error("banner on the lathe");
"""


@tagged("post_install", "-at_install")
class TestDashboardTour(HttpCase):
    """Client action ``workshop_iot.dashboard`` in chromium, logged in as a workshop user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.staff = new_test_user(env, login="wiot-dash-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.worker_user = new_test_user(env, login="wiot-dash-worker", groups="workshop_iot.workshop_iot_group_worker")
        broker = env["workshop.broker"].create({"name": "Dash broker", "url": "mqtt://broker.test:1883"})
        cls.worker = env["workshop.worker"].create({
            "name": "Dash worker", "worker_uid": "wk-dash", "url": "http://worker.test:8787",
            "token": "d" * 32, "broker_id": broker.id, "user_id": cls.worker_user.id,
        })
        cls.laser = env["workshop.device"].create({
            "name": "Laser", "device_id": "dash-laser", "topic": "shellyplus1pm-dash-laser",
            "worker_id": cls.worker.id, "area": "Hall A",
        })
        env["workshop.device"].create({
            "name": "Lathe", "device_id": "dash-lathe", "topic": "tasmota_dash_lathe", "parser_type": "tasmota",
            "worker_id": cls.worker.id,
        })
        cls.api_key = env["res.users.apikeys"].with_user(cls.worker_user).sudo()._generate(None, "dash test", None)

    def _status_params(self):
        now = "2026-11-25T10:00:00.000Z"
        return {
            "worker_uid": "wk-dash",
            "config_version": 0,
            "health": {
                "status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                "dead_letters": 0, "uptime_s": 60, "software_version": "0.1.0",
            },
            "devices": [{
                "device_id": "dash-laser", "state": "working", "power_w": 1250.0,
                "session_id": "0190a0c2-7a3b-7cde-8f00-00000000da5e", "session_started_at": now,
                "session_working_s": 30.0, "session_standby_s": 0.0, "last_seen_at": now, "changed_at": now,
            }],
            "full": False,
        }

    def test_dashboard_loads_recovers_after_reconnect_and_opens_sessions(self):
        code = browser_script("dashboard", BROWSER_BODY, KEY=self.api_key, STATUS=self._status_params())
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-dash-staff", timeout=120)

        # The ingest also queued the live notification for the dashboard channel of the machine's company.
        self.env.invalidate_all()
        channel = dashboard_channel(self.env, self.laser.company_id)
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        payloads = [json.loads(r.message) for r in rows]
        laser = [p["payload"] for p in payloads if p["type"] == BUS_TYPE and p["payload"]["device_id"] == "dash-laser"]
        self.assertTrue(laser, "no %s notification for the laser" % BUS_TYPE)
        self.assertEqual(laser[-1]["state"], "working")
        self.assertEqual(laser[-1]["id"], self.laser.id)
        self.assertEqual(set(laser[-1]), {
            "id", "name", "device_id", "area", "state", "power_w", "session_id", "session_started_at",
            "session_working_s", "session_standby_s", "today_working_s", "today_standby_s",
            "last_seen_at", "changed_at", "expected_interval_s", "member_name", "alert",
        })

    def test_open_alert_is_a_banner_on_the_tile(self):
        self.laser._alert_raise("session_too_long", "Session longer than 4.0 h", "")
        code = browser_script("alert banner", ALERT_BODY)
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-dash-staff", timeout=120)

    def test_dashboard_menu_is_for_workshop_users_only(self):
        menu = self.env.ref("workshop_iot.dashboard_menu")
        self.assertIn(self.env.ref("workshop_iot.workshop_iot_group_user"), menu.groups_id)
        outsider = new_test_user(self.env, login="wiot-dash-outsider", groups="base.group_user")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.staff)._visible_menu_ids(False))
        self.assertNotIn(menu.id, Menu.with_user(outsider)._visible_menu_ids(False))


# Zero machines (issue 14 finding 5). HELP: the text expected; BUTTON: whether "Add a machine" shows.
EMPTY_BODY = """
        const empty = await waitFor(() => document.querySelector('.o_workshop_iot_empty[data-empty="no-machines"]'),
                                    "first-machine help");
        if (!empty.textContent.includes(HELP)) throw new Error(`help: ${empty.textContent}`);
        if (document.querySelector('[data-empty="no-match"]')) throw new Error("says no machine matches the filter");
        const button = document.querySelector(".o_workshop_iot_add_machine");
        if (Boolean(button) !== BUTTON) throw new Error(`add button shown: ${Boolean(button)}`);
        if (button) {
            button.click();
            await waitFor(() => document.querySelector('.o_form_view .o_field_widget[name="device_id"]'),
                          "the new machine form");
        }
"""

# Never heard from, silent, and back through the ingest route (issue 14 findings 5 and 7).
SILENT_BODY = """
        const tile = (id) => document.querySelector(`.o_workshop_iot_tile[data-device-id="${id}"]`);
        const fact = (id, cls) => tile(id).querySelector(cls).textContent.trim();
        await waitFor(() => tile("dash-never") && tile("dash-silent") && tile("dash-quiet"), "the tiles");
        const neverPower = fact("dash-never", ".o_workshop_iot_power");
        if (neverPower !== "—") throw new Error(`never: ${neverPower}`);
        if (fact("dash-never", ".o_workshop_iot_last_seen") !== "never") throw new Error("never: last seen");
        if (tile("dash-never").dataset.silent !== "false") throw new Error("a meter never heard from is not silent");

        // Stored live state: last message 10 min ago, usual interval 60 s.
        await waitFor(() => tile("dash-silent").dataset.silent === "true", "silent tile");
        const line = fact("dash-silent", ".o_workshop_iot_silent");
        if (!line.startsWith("No data since ")) throw new Error(`silent line: ${line}`);
        // The session stops at the last message (started 20 min ago, last message 10 min ago).
        const silentSession = fact("dash-silent", ".o_workshop_iot_session");
        if (silentSession !== "0:10:00") throw new Error(`session: ${silentSession}`);
        if (tile("dash-quiet").dataset.silent !== "false") throw new Error("quiet (no usual interval yet) is silent");

        // The worker reports through the ingest route: the silent meter spoke, the quiet one has said
        // nothing for 10 min at a usual 60 s. The bus reconnect reloads the list (no websocket in tests).
        const bus = odoo.__WOWL_DEBUG__.root.env.services.bus_service;
        bus.trigger("disconnect", { code: 1006 });
        const response = await fetch("/workshop_iot/rpc", {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "worker.status", params: STATUS }),
        });
        const answer = await response.json();
        if (!answer.result || !answer.result.ok) throw new Error(`ingest: ${JSON.stringify(answer)}`);
        bus.trigger("reconnect");
        await waitFor(() => tile("dash-silent").dataset.silent === "false", "silent tile back to live");
        await waitFor(() => tile("dash-quiet").dataset.silent === "true", "quiet tile silent");
        if (!fact("dash-quiet", ".o_workshop_iot_silent").startsWith("No data since ")) throw new Error("quiet: line");
"""


@tagged("post_install", "-at_install")
class TestDashboardEmptyAndSilentTour(HttpCase):
    """The first-machine empty state, a meter never heard from and a silent one, in chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(env, login="wiot-empty-manager", groups="workshop_iot.workshop_iot_group_manager")
        cls.staff = new_test_user(env, login="wiot-empty-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.worker_user = new_test_user(
            env,
            login="wiot-silent-worker",
            groups="workshop_iot.workshop_iot_group_worker",
        )
        broker = env["workshop.broker"].create({"name": "Silent broker", "url": "mqtt://broker.test:1883"})
        cls.worker = env["workshop.worker"].create({
            "name": "Silent worker", "worker_uid": "wk-silent", "url": "http://worker.test:8787",
            "token": "s" * 32, "broker_id": broker.id, "user_id": cls.worker_user.id,
        })
        cls.api_key = cls.env["res.users.apikeys"].with_user(cls.worker_user).sudo()._generate(None, "silent", None)

    def _machines(self):
        Device = self.env["workshop.device"].with_context(tracking_disable=True)
        now = fields.Datetime.now().replace(microsecond=0)
        make = lambda device_id, name: Device.create({  # noqa: E731
            "name": name, "device_id": device_id, "topic": f"shellyplus1pm-{device_id}", "worker_id": self.worker.id})
        make("dash-never", "Never seen")
        silent = make("dash-silent", "Silent saw")
        silent.write({
            "live_state": "standby", "live_power_w": 3.0, "live_session_id": "0190a0c2-7a3b-7cde-8f00-00000000517e",
            "live_session_started_at": now - timedelta(minutes=20), "live_session_standby_s": 600.0,
            "live_last_seen_at": now - timedelta(minutes=10), "live_changed_at": now - timedelta(minutes=20),
            "live_expected_interval_s": 60.0,
        })
        quiet = make("dash-quiet", "Quiet lathe")
        # Last message 15 min ago, no usual interval reported yet: the message timeout (600 s) stands
        # in, and 15 min is not yet 2 x 600 s + 10 s.
        quiet.write({"live_state": "idle", "live_power_w": 0.5, "live_last_seen_at": now - timedelta(minutes=15),
                     "live_changed_at": now - timedelta(minutes=30)})
        return now

    def _status(self, now):
        """The worker's report: the silent saw spoke just now, the quiet lathe 10 min ago (60 s usual)."""
        def item(device_id, state, seen, changed, **kw):
            return {"device_id": device_id, "state": state, "power_w": 3.0, "session_id": None,
                    "session_started_at": None, "session_working_s": 0.0, "session_standby_s": 0.0,
                    "last_seen_at": wire_ts(seen), "changed_at": wire_ts(changed), "expected_interval_s": 60.0} | kw
        return {
            "worker_uid": "wk-silent", "config_version": 0, "full": False,
            "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
                       "dead_letters": 0, "uptime_s": 60, "software_version": "0.1.0"},
            "devices": [
                item("dash-silent", "standby", now, now - timedelta(minutes=20),
                     session_id="0190a0c2-7a3b-7cde-8f00-00000000517e",
                     session_started_at=wire_ts(now - timedelta(minutes=20)), session_standby_s=1200.0),
                item("dash-quiet", "idle", now - timedelta(minutes=10), now - timedelta(minutes=30)),
            ],
        }

    def _no_machines(self):
        self.env["workshop.device"].search([]).write({"active": False})

    def test_zero_machines_manager_gets_the_steps_and_a_button_to_the_new_machine_form(self):
        self._no_machines()
        code = browser_script("empty dashboard (manager)", EMPTY_BODY,
                              HELP="Workshop > Configuration > Machines > New", BUTTON=True)
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-empty-manager", timeout=120)

    def test_zero_machines_user_is_asked_to_turn_to_a_manager(self):
        self._no_machines()
        code = browser_script("empty dashboard (user)", EMPTY_BODY, HELP="Ask a Workshop manager", BUTTON=False)
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-empty-staff", timeout=120)

    def test_never_seen_and_silent_meters(self):
        now = self._machines()
        code = browser_script("silent meters", SILENT_BODY, KEY=self.api_key, STATUS=self._status(now))
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-empty-staff", timeout=120)
        # The ingest stored the usual interval and queued it in the bus payload the dashboard listens to.
        self.env.invalidate_all()
        quiet = self.env["workshop.device"].search([("device_id", "=", "dash-quiet")])
        self.assertEqual(quiet.live_expected_interval_s, 60.0)
        channel = dashboard_channel(self.env, quiet.company_id)
        payloads = [json.loads(r.message) for r in self.env["bus.bus"].sudo().search([("channel", "=", channel)])]
        sent = [p["payload"] for p in payloads if p["type"] == BUS_TYPE and p["payload"]["device_id"] == "dash-quiet"]
        self.assertEqual(sent[-1]["expected_interval_s"], 60.0)
