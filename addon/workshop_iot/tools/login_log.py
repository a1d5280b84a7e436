"""Rate limit for the log lines of refused logins on the ingest route (no ORM here).

A client retrying a wrong key every second must not flood the log, and an attacker must not be
able to grow memory without bound: at most one line per remote address and interval, the lines in
between are counted and the count goes into the next line, and only the most recent
``max_addresses`` addresses are remembered.
"""

import threading
import time
from collections import OrderedDict


class RefusalLogLimiter:
    """``admit(address)`` -> ``(log_now, suppressed)``: whether to write a line for this refusal
    and how many refusals of that address were not logged since its last line."""

    def __init__(self, interval_s=60.0, max_addresses=4096, clock=time.monotonic):
        self.interval_s = interval_s
        self.max_addresses = max_addresses
        self.clock = clock
        self._lock = threading.Lock()
        self._seen = OrderedDict()  # address -> [time of the last line, refusals suppressed since]

    def admit(self, address):
        now = self.clock()
        with self._lock:
            entry = self._seen.get(address)
            if entry is not None and now - entry[0] < self.interval_s:
                entry[1] += 1
                return False, 0
            suppressed = entry[1] if entry is not None else 0
            self._seen[address] = [now, 0]
            self._seen.move_to_end(address)
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)
            return True, suppressed

    def clear(self):
        with self._lock:
            self._seen.clear()


# One per process, shared by the HTTP threads (tests clear it in setUp).
refused_logins = RefusalLogLimiter()
