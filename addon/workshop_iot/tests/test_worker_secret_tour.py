"""Onboarding in a real browser (issue 12, finding 13): an administrator clicks *Generate worker
token* and *Generate Odoo API key* on the worker form and sees each secret in the show-once dialog,
with no Access Error, and revokes the key from the worker form (tour
``static/tests/tours/worker_secret_tour.js``). And over real HTTP: the
RPC endpoints refuse the minting methods to a workshop user and to the integration user's key."""

import json

from odoo.tests import HttpCase, new_test_user, tagged

TOKEN = "k" * 32


@tagged("post_install", "-at_install")
class TestWorkerSecretTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.worker_user = new_test_user(env, login="wiot-tour-worker", groups="workshop_iot.workshop_iot_group_worker")
        cls.staff = new_test_user(env, login="wiot-tour-staff", groups="workshop_iot.workshop_iot_group_user")
        # No URL: generating a token must not depend on a reachable worker.
        cls.worker = env["workshop.worker"].create({
            "name": "Tour worker", "worker_uid": "wk-tour", "token": TOKEN, "user_id": cls.worker_user.id,
        })

    def test_admin_generates_token_and_api_key_and_sees_them(self):
        url = "/odoo/action-workshop_iot.workshop_worker_action/%s" % self.worker.id
        self.start_tour(url, "workshop_iot_worker_secret", login="admin", timeout=120)
        self.env.invalidate_all()
        token = self.worker.sudo().token
        self.assertNotEqual(token, TOKEN)
        self.assertGreaterEqual(len(token), 40)
        self.assertFalse(self.worker_user.sudo().api_key_ids, "the key shown, listed, then revoked on the form")

    def _post_json(self, route, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params})
        return self.url_open(route, data=body, headers={"Content-Type": "application/json"}).json()

    def _call(self, method):
        return {"service": "object", "method": "execute_kw",
                "args": [self.env.cr.dbname, None, None, "workshop.worker", method, [[self.worker.id]]]}

    def test_rpc_endpoints_refuse_minting_to_non_admins(self):
        with self.assertLogs("odoo.http", "WARNING") as logs:
            self._refuse_minting()
        self.assertEqual(len(logs.records), 4)
        self.assertTrue(all("reserved to Administration / Settings" in r.getMessage() for r in logs.records))
        self.env.invalidate_all()
        self.assertEqual(self.worker.sudo().token, TOKEN)
        self.assertEqual(len(self.worker_user.sudo().api_key_ids), 1, "only the test's own key")

    def _refuse_minting(self):
        """Both minting methods over /jsonrpc with the integration user's key, then over
        /web/dataset/call_kw in a workshop user's session: an AccessError each time (logged by odoo.http)."""
        key = self.env["res.users.apikeys"].with_user(self.worker_user).sudo()._generate(None, "tour", None)
        for method in ("action_generate_token", "action_generate_api_key"):
            params = self._call(method)
            params["args"][1:3] = [self.worker_user.id, key]
            with self.subTest(route="/jsonrpc", method=method):
                answer = self._post_json("/jsonrpc", params)
                self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.authenticate("wiot-tour-staff", "wiot-tour-staff")
        for method in ("action_generate_token", "action_generate_api_key"):
            with self.subTest(route="/web/dataset/call_kw", method=method):
                answer = self._post_json("/web/dataset/call_kw", {
                    "model": "workshop.worker", "method": method, "args": [[self.worker.id]], "kwargs": {}})
                self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
