"""Verified API keys of the ingest route, remembered per process so that PBKDF2 runs once per key.

Odoo 18 checks a bearer API key with PBKDF2-SHA512 (~4 ms) on every request; a worker sending a
batch every few hundred milliseconds pays it each time. This cache remembers which key row a
presented key matched, never the key itself, and ``res.users.apikeys._workshop_iot_check_key``
still proves on every hit, with one indexed SELECT, that the row stands: same id, same stored hash,
same user, user active, not expired. Revoking a key, archiving its user or letting it expire is
therefore effective at once; the TTL only bounds how long a stale entry can sit in memory.
"""

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict, namedtuple

TTL_S = 60.0
MAX_ENTRIES = 256

Entry = namedtuple("Entry", "digest uid key_id key_hash expires_at")


class VerifiedKeyCache:
    """Maps (database, key index) to the key row a presented key was verified against.

    Entries hold an HMAC-SHA256 of the key under a random secret made when the process starts:
    a memory dump reveals no key, and nothing outlives the process. A lookup compares the digest
    in constant time (``hmac.compare_digest``). Thread-safe: Odoo's threaded server serves
    requests in parallel.
    """

    def __init__(self, ttl_s=TTL_S, max_entries=MAX_ENTRIES, clock=time.monotonic):
        self._secret = os.urandom(32)
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, key):
        return hmac.new(self._secret, key.encode(), hashlib.sha256).digest()

    def get(self, dbname, index, key):
        """The entry ``key`` was verified against, or None (unknown, other key, or past its TTL)."""
        with self._lock:
            entry = self._entries.get((dbname, index))
        if entry is None or entry.expires_at <= self._clock():
            return None
        return entry if hmac.compare_digest(entry.digest, self._digest(key)) else None

    def put(self, dbname, index, key, uid, key_id, key_hash):
        entry = Entry(self._digest(key), uid, key_id, key_hash, self._clock() + self._ttl_s)
        with self._lock:
            self._entries.pop((dbname, index), None)
            self._entries[(dbname, index)] = entry
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def discard(self, dbname, index):
        with self._lock:
            self._entries.pop((dbname, index), None)

    def clear(self):
        with self._lock:
            self._entries.clear()


verified_keys = VerifiedKeyCache()
