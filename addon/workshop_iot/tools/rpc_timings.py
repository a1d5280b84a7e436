"""Per-phase timings of ``/workshop_iot/rpc`` requests, for the benches only (scripts/bench).

Off unless the Odoo process runs with ``WORKSHOP_IOT_RPC_TIMINGS=1``: then each request on the
route measures its phases (auth, body, validation, handler steps, commit) and
- answers them in a ``Server-Timing`` header (milliseconds, the standard format), and
- logs one INFO line of ``odoo.addons.workshop_iot.tools.rpc_timings``: ``rpc timings {json}`` with
  the wall-clock start (ms since the epoch) and the event uids of the request, so a bench can line
  up the server's phases with a publish time (scripts/bench/e2e-latency.ts).
When off, every call here is one attribute lookup and returns: nothing reaches the wire or the log.
"""

import json
import logging
import os
import time

_logger = logging.getLogger(__name__)

ENV = "WORKSHOP_IOT_RPC_TIMINGS"
ENABLED = os.environ.get(ENV) == "1"
_ATTR = "_workshop_iot_timings"


class Timings:
    def __init__(self):
        self.epoch_ms = time.time() * 1000.0
        self.started = self.last = time.perf_counter()
        self.phases = {}
        self.methods = []
        self.event_uids = []
        self.response = None

    def lap(self, name):
        """Charge the time since the previous lap to phase ``name`` (phases add up)."""
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + (now - self.last) * 1000.0
        self.last = now

    def header(self):
        parts = ["%s;dur=%.3f" % (name, ms) for name, ms in self.phases.items()]
        parts.append("server;dur=%.3f" % ((self.last - self.started) * 1000.0))
        return ", ".join(parts)

    def set_header(self):
        if self.response is not None:
            self.response.headers["Server-Timing"] = self.header()

    def finish(self):
        self.set_header()
        if not _logger.isEnabledFor(logging.INFO):
            return
        _logger.info("rpc timings %s", json.dumps({
            "start_ms": round(self.epoch_ms, 3), "methods": self.methods, "phases": {
                k: round(v, 3) for k, v in self.phases.items()},
            "server_ms": round((self.last - self.started) * 1000.0, 3), "event_uids": self.event_uids}))


def start(request):
    """At the start of authentication: a new Timings on the request (None when off)."""
    if not ENABLED:
        return None
    timings = Timings()
    setattr(request, _ATTR, timings)
    # The first postcommit hook of the request's transaction: right after COMMIT, before the hooks
    # the request queues later (waking the cron threads, the bus).
    request.env.cr.postcommit.add(lambda: timings.lap("commit"))
    return timings


def _of(request):
    # ``request`` is Odoo's proxy: falsy outside a request (cron, tests), and then not readable.
    return getattr(request, _ATTR, None) if ENABLED and request else None


def lap(request, name):
    timings = _of(request)
    if timings is not None:
        timings.lap(name)


def note_call(request, method, params):
    timings = _of(request)
    if timings is not None:
        timings.methods.append(method)
        if method == "events.ingest" and isinstance(params, dict) and isinstance(params.get("events"), list):
            timings.event_uids += [e.get("event_uid") for e in params["events"] if isinstance(e, dict)]


def until_committed(request, response):
    """Time the commit that follows the controller (Odoo's ``service.model.retrying``): ``flush``
    (precommit hooks such as the fold trigger, the ORM flush), ``commit`` (COMMIT),
    ``postcommit`` (hooks after it, e.g. waking the cron threads); then header and log line."""
    timings = _of(request)
    if timings is None:
        return
    timings.response = response
    cr = request.env.cr

    def flushed():  # runs after the other precommit hooks, queued before it
        timings.lap("flush")
        timings.set_header()  # completed by done(); test cursors run no postcommit hooks
        cr.postcommit.add(done)  # after the postcommit hooks the precommit hooks queued

    def done():
        timings.lap("postcommit")
        timings.finish()

    timings.lap("respond")
    cr.precommit.add(flushed)
