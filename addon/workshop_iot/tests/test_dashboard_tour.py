"""The dashboard client action in a real browser against this Odoo: it loads for a workshop user,
shows every machine, recovers after a bus reconnect with a state changed through the ingest route,
and opens a machine's sessions.

Odoo refuses websockets while tests run (``WebsocketConnectionHandler.websocket_allowed``), so the
live notification itself is checked on the server side here (the bus row the ingest queued for the
workshop user group) and in the browser by web/test/odoo/live-dashboard.mjs against a running Odoo.
"""

import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import browser_script

BUS_TYPE = "workshop_iot/device_state"

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
        await waitFor(() => document.querySelector('.o_workshop_iot_connection[data-online="false"]'), "offline status");
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

        # The ingest also queued the live notification for the workshop user group's channel.
        self.env.invalidate_all()
        group = self.env.ref("workshop_iot.workshop_iot_group_user")
        channel = json.dumps([self.env.cr.dbname, "res.groups", group.id], separators=(",", ":"))
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        payloads = [json.loads(r.message) for r in rows]
        laser = [p["payload"] for p in payloads if p["type"] == BUS_TYPE and p["payload"]["device_id"] == "dash-laser"]
        self.assertTrue(laser, "no %s notification for the laser" % BUS_TYPE)
        self.assertEqual(laser[-1]["state"], "working")
        self.assertEqual(laser[-1]["id"], self.laser.id)
        self.assertEqual(set(laser[-1]), {
            "id", "name", "device_id", "area", "state", "power_w", "session_id", "session_started_at",
            "session_working_s", "session_standby_s", "today_working_s", "today_standby_s",
            "last_seen_at", "changed_at",
        })

    def test_dashboard_menu_is_for_workshop_users_only(self):
        menu = self.env.ref("workshop_iot.dashboard_menu")
        self.assertIn(self.env.ref("workshop_iot.workshop_iot_group_user"), menu.groups_id)
        outsider = new_test_user(self.env, login="wiot-dash-outsider", groups="base.group_user")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.staff)._visible_menu_ids(False))
        self.assertNotIn(menu.id, Menu.with_user(outsider)._visible_menu_ids(False))
