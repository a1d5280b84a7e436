import json
from unittest.mock import patch

from odoo.addons.base.models import res_users
from odoo.tests import BaseCase, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..tools.apikey_cache import VerifiedKeyCache, verified_keys
from .rpc_http_common import REFUSAL_LOGGER

URL = "/workshop_iot/rpc"
STATUS_PARAMS = {
    "worker_uid": "wk-auth", "config_version": 0, "full": True, "devices": [],
    "health": {"status": "ok", "broker_connected": True, "outbox_depth": 0, "oldest_pending_s": None,
               "dead_letters": 0, "uptime_s": 1.0, "software_version": "0.1.0"},
}


class CountingCryptContext:
    """Wraps Odoo's API-key CryptContext and counts ``verify`` calls (each one is a PBKDF2 run)."""

    def __init__(self, context):
        self._context = context
        self.verified = 0

    def verify(self, secret, hashed):
        self.verified += 1
        return self._context.verify(secret, hashed)

    def __getattr__(self, name):
        return getattr(self._context, name)


@tagged("post_install", "-at_install")
class TestRpcAuthCache(HttpCase):
    """The ingest route remembers verified API keys, and still refuses a key the moment it is
    revoked or expires, or its user is archived or leaves the worker group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, login="wiot-auth-worker", groups="workshop_iot.workshop_iot_group_worker")
        cls.env["workshop.worker"].create({"name": "Auth worker", "worker_uid": "wk-auth", "user_id": cls.user.id})

    def setUp(self):
        super().setUp()
        verified_keys.clear()
        self.addCleanup(verified_keys.clear)
        self.crypt = CountingCryptContext(res_users.KEY_CRYPT_CONTEXT)
        patcher = patch.object(res_users, "KEY_CRYPT_CONTEXT", self.crypt)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.key = self.new_key()

    def new_key(self, expiration_date=None):
        return self.env["res.users.apikeys"].with_user(self.user).sudo()._generate(None, "auth test", expiration_date)

    def key_row(self, key):
        # The index (first 8 characters) is how Odoo itself finds a key's row.
        self.env.cr.execute("SELECT id FROM res_users_apikeys WHERE index = %s", [key[:8]])
        return self.env["res.users.apikeys"].browse(self.env.cr.fetchone()[0])

    def status(self, key):
        body = {"jsonrpc": "2.0", "id": 1, "method": "worker.status", "params": STATUS_PARAMS}
        self.env.flush_all()  # the request reads the tables in its own environment
        # Refusals are logged (tests/test_rpc_transport.py asserts the lines); here only the answer counts.
        with mute_logger("odoo.http", REFUSAL_LOGGER):
            return self.url_open(URL, data=json.dumps(body).encode(), headers={
                "Content-Type": "application/json", "Authorization": "Bearer %s" % key})

    def assertAccepted(self, key):
        response = self.status(key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["result"]["ok"], True)

    def assertUnauthenticated(self, key):
        response = self.status(key)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"]["data"]["code"], "UNAUTHENTICATED")

    def test_a_verified_key_is_hashed_once(self):
        for _ in range(3):
            self.assertAccepted(self.key)
        self.assertEqual(self.crypt.verified, 1)

    def test_wrong_key_with_a_cached_index_is_401(self):
        self.assertAccepted(self.key)
        self.assertUnauthenticated(self.key[:8] + "0" * (len(self.key) - 8))
        self.assertAccepted(self.key)

    def test_revoked_key_is_refused_at_once(self):
        self.assertAccepted(self.key)
        self.key_row(self.key)._remove()  # as an administrator revoking it
        self.assertUnauthenticated(self.key)

    def test_expired_key_is_refused_at_once(self):
        self.assertAccepted(self.key)
        # expiration_date is readonly in the ORM, as in Odoo: move it into the past the way time would.
        self.env.cr.execute(
            "UPDATE res_users_apikeys SET expiration_date = now() at time zone 'utc' - interval '1 second'"
            " WHERE id = %s", [self.key_row(self.key).id])
        self.assertUnauthenticated(self.key)

    def test_archived_user_is_refused_at_once(self):
        self.assertAccepted(self.key)
        self.user.active = False
        self.assertUnauthenticated(self.key)

    def test_user_removed_from_the_worker_group_is_403(self):
        self.assertAccepted(self.key)
        self.user.groups_id = [(3, self.env.ref("workshop_iot.workshop_iot_group_worker").id)]
        response = self.status(self.key)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"]["data"]["code"], "FORBIDDEN")

    def test_key_replaced_by_a_new_one_of_the_same_user(self):
        self.assertAccepted(self.key)
        self.key_row(self.key)._remove()  # as an administrator revoking it
        other = self.new_key()
        self.assertAccepted(other)
        self.assertUnauthenticated(self.key)


class TestVerifiedKeyCache(BaseCase):
    """tools/apikey_cache.py on its own, with a fake clock."""

    def setUp(self):
        super().setUp()
        self.now = 1000.0
        self.cache = VerifiedKeyCache(ttl_s=60.0, max_entries=2, clock=lambda: self.now)

    def test_hit_miss_and_other_database(self):
        self.cache.put("db1", "abcd1234", "abcd1234-key", 7, 42, "hash")
        entry = self.cache.get("db1", "abcd1234", "abcd1234-key")
        self.assertEqual((entry.uid, entry.key_id, entry.key_hash), (7, 42, "hash"))
        self.assertIsNone(self.cache.get("db1", "abcd1234", "abcd1234-other"))
        self.assertIsNone(self.cache.get("db2", "abcd1234", "abcd1234-key"))

    def test_entries_expire_after_the_ttl(self):
        self.cache.put("db1", "abcd1234", "abcd1234-key", 7, 42, "hash")
        self.now += 59.9
        self.assertIsNotNone(self.cache.get("db1", "abcd1234", "abcd1234-key"))
        self.now += 0.1
        self.assertIsNone(self.cache.get("db1", "abcd1234", "abcd1234-key"))

    def test_oldest_entry_is_evicted_past_the_limit(self):
        for n in range(3):
            self.cache.put("db1", "index%03d" % n, "key%d" % n, n, n, "hash")
        self.assertIsNone(self.cache.get("db1", "index000", "key0"))
        self.assertIsNotNone(self.cache.get("db1", "index002", "key2"))
