from odoo import models
from odoo.addons.base.models import res_users
from odoo.tools import SQL

from ..tools.apikey_cache import verified_keys

# Odoo's bearer routes check keys for the 'rpc' scope, which in practice means a global key (scope
# NULL); the ingest route accepts exactly the same keys.
SCOPE = "rpc"


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    def _workshop_iot_check_key(self, key):
        """The user id of API key ``key``, or None; what ``_check_credentials(scope='rpc')`` answers.

        A key verified before in this process (``tools/apikey_cache.py``) costs one SELECT by
        primary key that proves its row still stands (same hash, user active, not expired) instead
        of PBKDF2. Otherwise the same query and hash check as Odoo's ``_check_credentials``, which
        then remembers the matching row.
        """
        if not key:
            return None
        cr = self.env.cr
        index = key[:res_users.INDEX_SIZE]
        entry = verified_keys.get(cr.dbname, index, key)
        if entry:
            cr.execute(SQL(
                """SELECT 1
                     FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id
                    WHERE k.id = %s AND k.user_id = %s AND k.key = %s AND u.active
                      AND (k.scope IS NULL OR k.scope = %s)
                      AND (k.expiration_date IS NULL OR k.expiration_date >= now() at time zone 'utc')""",
                entry.key_id, entry.uid, entry.key_hash, SCOPE))
            if cr.fetchone():
                return entry.uid
            verified_keys.discard(cr.dbname, index)
            return None
        cr.execute(SQL(
            """SELECT k.id, k.user_id, k.key
                 FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id
                WHERE u.active AND k.index = %s AND (k.scope IS NULL OR k.scope = %s)
                  AND (k.expiration_date IS NULL OR k.expiration_date >= now() at time zone 'utc')""",
            index, SCOPE))
        for key_id, uid, key_hash in cr.fetchall():
            # Looked up on the module at call time, so tests can count the hash checks.
            if res_users.KEY_CRYPT_CONTEXT.verify(key, key_hash):
                verified_keys.put(cr.dbname, index, key, uid, key_id, key_hash)
                return uid
        return None
