"""Server-side rights of the secret-handling methods (issue 12, findings 1, 4, 5, 11, 13, 14).

A button's ``groups=`` only hides it; these tests call the methods as RPC would (``with_user``) and
assert the refusal, and that nothing changed: no token rotated, no key minted, no push queued and
no HTTP call made. The whole policy, per method and role, is the table of ``test_role_matrix.py``.
"""

from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .. import uninstall_hook
from ..tools import config_push
from .common import WorkshopIotCase, apply_ok, mock_worker

SECRET_SPEC = {"secret": {}, "target": {}}


def add_roles(cls):
    """The five roles of the policy table, as users (``cls.<role>``) next to ``WorkshopIotCase``'s
    ``staff`` (workshop user), ``manager`` and ``worker_user`` (integration: worker group only)."""
    cls.nobody = new_test_user(cls.env, login="wiot-nobody", groups="base.group_user")
    cls.admin = new_test_user(cls.env, login="wiot-admin",
                              groups="base.group_system,workshop_iot.workshop_iot_group_manager")
    cls.roles = {"nobody": cls.nobody, "user": cls.staff, "manager": cls.manager, "admin": cls.admin,
                 "integration": cls.worker_user}


def api_key_count(user):
    return len(user.sudo().api_key_ids)


@tagged("post_install", "-at_install")
class TestSecretMinting(WorkshopIotCase):
    """Findings 1, 4, 13: only administrators mint secrets, and a secret is shown or not created."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_roles(cls)

    def test_only_administrators_generate_token_or_api_key(self):
        for role in ("nobody", "user", "manager", "integration"):
            user = self.roles[role]
            for method in ("action_generate_token", "action_generate_api_key"):
                with self.subTest(role=role, method=method), self.assertRaises(AccessError):
                    getattr(self.worker.with_user(user), method)()
        self.assertEqual(self.worker.sudo().token, "t" * 32, "token not rotated")
        self.assertEqual(api_key_count(self.worker_user), 0, "no key minted")

    def test_refusal_names_the_group(self):
        with self.assertRaisesRegex(AccessError, "Administration / Settings"):
            self.worker.with_user(self.manager).action_generate_api_key()

    def _open_dialog(self, action, user):
        """What the web client does with the returned action: load the dialog's form view, then
        ask the server for the new record's values (``onchange`` with the action's context)."""
        Secret = self.env[action["res_model"]].with_user(user).with_context(action["context"])
        Secret.get_views(action["views"])
        return Secret.onchange({}, [], SECRET_SPEC)["value"]

    def test_admin_sees_the_generated_token_in_the_dialog(self):
        action = self.worker.with_user(self.admin).action_generate_token()
        values = self._open_dialog(action, self.admin)
        self.assertEqual(values["secret"], self.worker.sudo().token)
        self.assertIn("http.token", values["target"])

    def test_admin_sees_the_generated_api_key_and_it_authenticates(self):
        action = self.worker.with_user(self.admin).action_generate_api_key()
        key = self._open_dialog(action, self.admin)["secret"]
        uid = self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key)
        self.assertEqual(uid, self.worker_user.id)

    def test_nothing_changes_when_the_dialog_cannot_be_shown(self):
        Secret = type(self.env["workshop.worker.secret"])
        with patch.object(Secret, "check_access", side_effect=AccessError("no dialog")):
            for method in ("action_generate_token", "action_generate_api_key"):
                with self.subTest(method=method), self.assertRaises(AccessError):
                    getattr(self.worker.with_user(self.admin), method)()
        self.assertEqual(self.worker.sudo().token, "t" * 32)
        self.assertEqual(api_key_count(self.worker_user), 0)

    def test_integration_keys_are_listed_and_revocable_by_admins_only(self):
        self.worker.with_user(self.admin).action_generate_api_key()
        self.worker.with_user(self.admin).action_generate_api_key()
        keys = self.worker.with_user(self.admin).api_key_ids
        self.assertEqual(len(keys), 2)
        self.assertEqual(set(keys.mapped("name")), {"workshop_iot wk-test"})
        self.assertTrue(all(keys.mapped("create_date")))
        with self.assertRaises(AccessError):
            self.worker.with_user(self.manager).read(["api_key_ids"])
        with self.assertRaises(AccessError):
            keys[0].with_user(self.manager)._remove()
        with mute_logger("odoo.addons.base.models.res_users"):
            keys[0].with_user(self.admin)._remove()  # what the list's Revoke button (remove) runs
        self.worker.invalidate_recordset(["api_key_ids"])
        self.assertEqual(self.worker.with_user(self.admin).api_key_ids, keys[1])


@tagged("post_install", "-at_install")
class TestSecretDestinations(WorkshopIotCase):
    """Finding 5: who cannot read a secret cannot choose where it is sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_roles(cls)
        cls.secret_broker = cls.env["workshop.broker"].create({
            "name": "Secret broker", "url": "mqtts://secret.test:8883", "password": "pw", "tls_key": "KEY"})

    def assertNothingSent(self, version):
        self.assertFalse(config_push.pending(self.env), "no push queued")
        self.assertEqual(self.worker.config_version, version)
        with patch.object(config_push, "spawn") as spawn:
            self.env.cr.postcommit.run()
        spawn.assert_not_called()

    def test_manager_cannot_redirect_a_worker_that_carries_the_token(self):
        version = self.worker.config_version
        with mock_worker(apply_ok) as calls:
            with self.assertRaisesRegex(AccessError, "worker token"):
                self.worker.with_user(self.manager).write({"url": "http://attacker.test:80"})
            self.assertEqual(calls, [])
        self.assertEqual(self.worker.url, "http://worker.test:8787")
        self.assertNothingSent(version)

    def test_manager_cannot_point_a_worker_with_url_at_a_broker_with_secrets(self):
        self.worker.token = False
        version = self.worker.config_version
        with self.assertRaisesRegex(AccessError, "broker password"):
            self.worker.with_user(self.manager).broker_id = self.secret_broker
        with self.assertRaisesRegex(AccessError, "TLS client key"):
            self.env["workshop.worker"].with_user(self.manager).create({
                "name": "Rogue", "worker_uid": "wk-rogue", "url": "http://attacker.test",
                "broker_id": self.secret_broker.id})
        self.assertNothingSent(version)

    def test_manager_may_set_the_url_of_a_worker_without_secrets(self):
        self.worker.token = False
        self.worker.with_user(self.manager).url = "http://10.0.0.9:8787"
        self.assertEqual(config_push.pending(self.env), {self.worker.id})
        self.worker.with_user(self.manager).broker_id = self.secret_broker.copy({"name": "copy"})  # no secrets copied
        worker = self.env["workshop.worker"].with_user(self.manager).create(
            {"name": "New", "worker_uid": "wk-new", "url": "http://10.0.0.10:8787", "broker_id": self.broker.id})
        self.assertEqual(worker.url, "http://10.0.0.10:8787")

    def test_admin_may_redirect(self):
        self.worker.with_user(self.admin).write({"url": "http://10.0.0.9:8787", "broker_id": self.secret_broker.id})
        self.assertEqual(config_push.pending(self.env), {self.worker.id})

    def test_broker_destination_fields_are_admin_only_while_it_holds_secrets(self):
        self.worker.broker_id = self.secret_broker
        self.env.cr.postcommit.clear()
        broker = self.secret_broker.with_user(self.manager)
        for vals in ({"url": "mqtts://attacker.test:8883"}, {"tls_ca": "-----BEGIN CERTIFICATE-----"},
                     {"tls_insecure": True}, {"embedded": True}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                broker.write(vals)
        self.assertEqual(self.secret_broker.url, "mqtts://secret.test:8883")
        self.assertFalse(config_push.pending(self.env))
        broker.write({"keepalive_s": 30, "url": "mqtts://secret.test:8883"})  # unchanged destination
        self.broker.with_user(self.manager).url = "mqtt://other.test:1883"  # no secrets: allowed
        self.secret_broker.with_user(self.admin).url = "mqtts://moved.test:8883"

    def test_hello_still_fills_an_empty_url(self):
        self.worker.write({"url": False, "broker_id": self.secret_broker.id})
        model = self.env["workshop.worker"].with_user(self.worker_user).sudo()
        result = model._rpc_hello({"worker_uid": "wk-test", "software_version": "0.1.0", "config_version": 0,
                                   "started_at": "2026-01-01T00:00:00Z", "http_url": "http://10.0.0.5:8787"})
        self.assertEqual(self.worker.url, "http://10.0.0.5:8787")
        self.assertEqual(result["config"]["broker"]["password"], "pw")


@tagged("post_install", "-at_install")
class TestUninstallHook(WorkshopIotCase):
    """Finding 14: uninstalling archives the integration users and revokes their keys."""

    def test_hook_archives_integration_users_and_revokes_their_keys(self):
        Keys = self.env["res.users.apikeys"]
        key = Keys.with_user(self.worker_user).sudo()._generate(None, "wk", None)
        person = new_test_user(self.env, login="wiot-person",
                               groups="base.group_user,workshop_iot.workshop_iot_group_worker")
        person_key = Keys.with_user(person).sudo()._generate(None, "person", None)
        self.assertEqual(Keys._check_credentials(scope="rpc", key=key), self.worker_user.id)

        uninstall_hook(self.env)

        self.assertIsNone(Keys._check_credentials(scope="rpc", key=key))  # Odoo's /jsonrpc, /json/2
        self.assertIsNone(Keys._workshop_iot_check_key(key))  # the ingest route's own check
        self.assertFalse(self.worker_user.active)
        self.assertFalse(self.worker_user.sudo().with_context(active_test=False).api_key_ids)
        self.assertTrue(person.active, "a person in the worker group keeps their account")
        self.assertEqual(Keys._check_credentials(scope="rpc", key=person_key), person.id)
