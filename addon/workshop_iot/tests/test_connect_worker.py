"""Guided "Connect a worker" (issue 14, finding 5), server side: the wizard creates the worker, mints
its token and an Odoo API key and returns them only in the action that shows them, with a settings
file and .env lines filled in; nothing stores them, so they are not readable afterwards; every
method refuses non-administrators. The browser flow is test_connect_worker_tour.py."""

import json

from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from ..models.workshop_worker_connect import API_KEY_KEY, TOKEN_KEY
from ..schema import generated
from .common import WorkshopIotCase
from .test_rights import add_roles


@tagged("post_install", "-at_install")
class TestConnectWorker(WorkshopIotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_roles(cls)

    def open_wizard(self, user=None, worker=None):
        action = (worker or self.env["workshop.worker"]).with_user(user or self.admin).action_connect()
        return Form(self.env[action["res_model"]].with_user(user or self.admin).with_context(action["context"]))

    def create_and_show(self, name="Bench PC", url="http://192.168.1.20:8790"):
        form = self.open_wizard()
        form.name = name
        self.assertEqual(form.worker_uid, name.lower().replace(" ", "-"), "the uid is derived from the name")
        form.url = url
        wizard = form.save()
        action = wizard.action_create_worker()
        return wizard, action, wizard.with_context(action["context"])

    def test_step_two_shows_both_secrets_with_the_settings_to_paste(self):
        wizard, action, shown = self.create_and_show()
        self.assertEqual(action["res_id"], wizard.id)
        worker = wizard.worker_id
        self.assertEqual(
            (worker.name, worker.worker_uid, worker.url),
            ("Bench PC", "bench-pc", "http://192.168.1.20:8790"),
        )
        token, key = shown.token, shown.api_key
        self.assertEqual(token, worker.sudo().token)
        self.assertEqual(self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key), worker.user_id.id,
                         "the key shown is a key of the worker's integration user")
        self.assertTrue(worker.user_id.has_group("workshop_iot.workshop_iot_group_worker"))
        settings = json.loads(shown.settings_file)
        self.assertEqual(generated.validate_worker_settings(settings), [], "a valid worker settings file")
        self.assertEqual(settings, {
            "worker_uid": "bench-pc",
            "http": {"host": "0.0.0.0", "port": 8790, "token": token},
            "odoo": {"url": wizard.get_base_url(), "api_key": key},
        })
        self.assertEqual(shown.env_lines, "WORKER_UID=bench-pc\nWORKER_TOKEN=%s\nODOO_API_KEY=%s\n" % (token, key))

    def test_a_loopback_or_empty_url_keeps_the_worker_on_loopback(self):
        for url, port in (("http://127.0.0.1:8787", 8787), (False, 8787)):
            with self.subTest(url=url):
                _wizard, _action, shown = self.create_and_show(
                    name="Bench PC %s" % port if url else "Bench PC",
                    url=url,
                )
                settings = json.loads(shown.settings_file)
                self.assertEqual((settings["http"]["host"], settings["http"]["port"]), ("127.0.0.1", port))

    def test_secrets_are_not_readable_after_the_step(self):
        wizard, _action, shown = self.create_and_show()
        secrets = (shown.token, shown.api_key)
        for name in ("token", "api_key", "settings_file", "env_lines"):
            self.assertFalse(wizard._fields[name].store, "%s is never stored" % name)
        self.env.invalidate_all()
        self.assertFalse(wizard.read(["token", "api_key", "settings_file", "env_lines"])[0]["token"])
        wait = wizard.action_wait()
        self.assertEqual(wizard.step, "wait")
        self.assertFalse({TOKEN_KEY, API_KEY_KEY} & set(wait["context"]))
        values = wizard.with_context(wait["context"]).read(["token", "api_key", "settings_file", "env_lines"])[0]
        self.assertFalse(any(values[name] for name in ("token", "api_key", "settings_file", "env_lines")))
        # Even with the secrets in the context, step 3 does not render the files any more.
        self.assertFalse(wizard.with_context(shown.env.context).settings_file)
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM workshop_worker_connect WHERE id = %s", [wizard.id])
        row = self.env.cr.fetchone()
        self.assertFalse(any(secret in str(row) for secret in secrets))

    def test_minting_twice_is_refused(self):
        wizard, _action, _shown = self.create_and_show()
        with self.assertRaisesRegex(Exception, "already shown"):
            wizard.action_create_worker()

    def test_from_the_worker_form_it_reconnects_that_worker(self):
        worker = self.env["workshop.worker"].create({"name": "Old PC", "worker_uid": "old-pc"})
        form = self.open_wizard(worker=worker)
        self.assertEqual((form.name, form.worker_uid), ("Old PC", "old-pc"))
        wizard = form.save()
        shown = wizard.with_context(wizard.action_create_worker()["context"])
        self.assertEqual(wizard.worker_id, worker)
        self.assertEqual(shown.token, worker.sudo().token)
        self.assertEqual(self.env["workshop.worker"].search_count([("worker_uid", "=", "old-pc")]), 1)

    def test_non_admins_cannot_open_or_run_the_wizard(self):
        wizard = self.env["workshop.worker.connect"].with_user(self.admin).create({"name": "Bench PC"})
        for role in ("nobody", "user", "manager", "integration"):
            user = self.roles[role]
            with self.subTest(role=role):
                with self.assertRaises(AccessError):
                    self.env["workshop.worker"].with_user(user).action_connect()
                with self.assertRaises(AccessError):
                    self.env["workshop.worker.connect"].with_user(user).create({"name": "Sneaky"})
                for method in ("action_create_worker", "action_wait", "action_open_worker"):
                    with self.assertRaises(AccessError):
                        getattr(wizard.with_user(user), method)()
        self.assertFalse(self.env["workshop.worker"].search([("worker_uid", "in", ("bench-pc", "sneaky"))]))
