"""Every list and form of the module opens in debug mode without a console error (issue 14,
finding 3): as admin with ``?debug=1`` (OWL validates component props in debug mode), the browser
opens the list of each window action of the module, then the form of a real record of its model.
The actions are found from the module's own records, so a new action is covered without a change
here. Odoo's test browser fails the test on any console error; the script also fails on an error
dialog ("Oops!") that did not reach the console."""

import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import EventFactory, browser_script, fold_pending

# Every list and a form of each STEPS entry (from the test) opens with no error dialog.
BROWSER_BODY = """
        const action = odoo.__WOWL_DEBUG__.root.env.services.action;
        // Fails at once on an error dialog instead of waiting for the timeout.
        const waitForSelector = (selector, what) => waitFor(() => {
            const dialog = document.querySelector(".o_error_dialog");
            if (dialog) throw new Error(`${what}: error dialog: ${dialog.textContent.slice(0, 300)}`);
            return document.querySelector(selector);
        }, `${what} (${selector})`);
        for (const step of FORM_ACTIONS) {
            // Form-only actions (Settings > Workshop IoT): the action opens on its form.
            console.info(`workshop_iot views test: ${step.xmlid}`);
            await action.doAction(step.action, { clearBreadcrumbs: true });
            await waitForSelector(step.selector, `form of ${step.xmlid}`);
            for (let i = 0; i < 10; i++) await settle();
            await waitForSelector(step.selector, `form of ${step.xmlid} after load`);
        }
        for (const step of STEPS) {
            console.info(`workshop_iot views test: ${step.xmlid}`);
            await action.doAction(step.action, { clearBreadcrumbs: true });
            await waitForSelector(".o_list_view .o_data_row", `list of ${step.xmlid}`);
            console.info(`workshop_iot views test: form of ${step.model} ${step.res_id}`);
            await action.doAction({
                type: "ir.actions.act_window", res_model: step.model, res_id: step.res_id,
                views: [[false, "form"]],
            });
            await waitForSelector(
                ".o_form_view .o_form_sheet_bg, .o_form_view .o_form_renderer", `form of ${step.model}`);
            // Lazy parts of the form (code editor, chatter) load after the first render.
            for (let i = 0; i < 10; i++) await settle();
            await waitForSelector(".o_form_view", `form of ${step.model} after load`);
        }
"""


@tagged("post_install", "-at_install")
class TestViewsDebug(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        worker_user = new_test_user(env, login="wiot-views-worker", groups="workshop_iot.workshop_iot_group_worker")
        broker = env["workshop.broker"].create({"name": "Views broker", "url": "mqtt://broker.test:1883"})
        worker = env["workshop.worker"].create({
            "name": "Views worker", "worker_uid": "wk-views", "url": "http://worker.test:8787",
            "token": "v" * 32, "broker_id": broker.id, "user_id": worker_user.id,
        })
        device = env["workshop.device"].create({
            "name": "Views laser", "device_id": "views-laser", "topic": "views-laser", "worker_id": worker.id,
        })
        # A real session and its events, through ingest and fold as a worker would create them.
        factory = EventFactory(worker.worker_uid, fields.Datetime.now().replace(microsecond=0) - timedelta(seconds=200))
        session = str(uuid.uuid4())
        events = [factory.started(device, 1, session), factory.stopped(device, 2, session, 120, 90.0, 30.0)]
        env["workshop.worker"].with_user(worker_user).sudo()._rpc_ingest(
            {"worker_uid": worker.worker_uid, "events": events},
        )
        fold_pending(env)
        # A badge reader and a member's card (their lists: Badge readers, Member cards).
        env["workshop.badge.reader"].create({"name": "Views reader", "reader_id": "views-rfid", "topic": "views_rfid",
                                             "device_id": device.id})
        env["workshop.member.card"].create({"partner_id": env.user.partner_id.id, "card_id": "VIEWS01"})
        # An area with a closing time (the Areas list, issue 17).
        env["workshop.area"].create({"name": "Views hall", "closing_time": 18.5})
        # A discovered meter, as discovery.report stores one (the Discovered meters list and form).
        env["workshop.discovered.meter"].sudo()._report(worker, [{
            "family": "shelly_gen2", "device_key": "shellypro4pm-views", "model": "Pro4PM", "name": None,
            "parser_type": "shelly_gen2", "topic": "shellypro4pm-views",
            "channels": [{"channel": 0, "component": "switch:0", "measures": "power", "energy": True},
                         {"channel": 1, "component": "switch:1", "measures": "power", "energy": True}],
        }])

    def _steps(self):
        """One step per window action of this module: its id, model and a record of that model."""
        data = self.env["ir.model.data"].search(
            [("module", "=", "workshop_iot"), ("model", "=", "ir.actions.act_window")],
        )
        self.assertTrue(data, "the module defines window actions")
        steps = []
        for row in data:
            act = self.env["ir.actions.act_window"].browse(row.res_id)
            if "list" not in act.view_mode:
                continue  # see _form_actions
            record = self.env[act.res_model].search([], limit=1)
            self.assertTrue(record, f"a {act.res_model} record to open")
            steps.append({"xmlid": row.complete_name, "action": act.id, "model": act.res_model, "res_id": record.id})
        return steps

    def _form_actions(self):
        """The module's form-only window actions (no list to open), with what their form shows."""
        data = self.env["ir.model.data"].search(
            [("module", "=", "workshop_iot"), ("model", "=", "ir.actions.act_window")],
        )
        actions = self.env["ir.actions.act_window"].browse(data.mapped("res_id"))
        form_only = actions.filtered(lambda act: "list" not in act.view_mode)
        # Settings: the Workshop IoT app block of the settings form.
        self.assertEqual(form_only.mapped("res_model"), ["res.config.settings"])
        return [{"xmlid": act.get_external_id()[act.id], "action": act.id,
                 "selector": ".app_settings_block[data-key=workshop_iot] [name=workshop_worker_stale_after_s]"}
                for act in form_only]

    def test_every_list_and_form_opens_in_debug_mode(self):
        steps = self._steps()
        models = {step["model"] for step in steps}
        self.assertLessEqual({"workshop.broker", "workshop.worker", "workshop.device", "workshop.session",
                              "workshop.event"}, models)
        code = browser_script("views", BROWSER_BODY, STEPS=steps, FORM_ACTIONS=self._form_actions())
        # Start on a list (not the home app, whose loading would supersede the script's first action).
        self.browser_js("/odoo/action-workshop_iot.workshop_broker_action?debug=1", code,
                        ready="!!document.querySelector('.o_list_view .o_data_row')", login="admin", timeout=180)
