"""Post-commit config push to workers, with retries (same hook as ``bus.bus._sendone``).

A device or broker write only *queues* the affected worker ids on ``cr.postcommit``: the push must
wait for the commit, otherwise a worker could apply a config that is then rolled back, and a slow
worker would hold the user's transaction (and its row locks) open. After the commit a daemon thread
does the push so the form's response is not delayed either: one immediate attempt, one short
in-thread retry, then ``workshop.worker`` schedules a cron retry with exponential backoff
(``_cron_retry_config_push``). Failures are written on the worker record, never raised to the user.
"""

import logging
import threading
import time

_logger = logging.getLogger(__name__)

POSTCOMMIT_KEY = "workshop_iot.config_push_worker_ids"
IN_THREAD_RETRY_DELAY_S = 2.0


def schedule(env, worker_ids):
    """Queue a push of these workers' config for after the current transaction commits."""
    worker_ids = set(worker_ids)
    if not worker_ids:
        return
    cr = env.cr
    if POSTCOMMIT_KEY not in cr.postcommit.data:
        cr.postcommit.data[POSTCOMMIT_KEY] = set()
        dbname = cr.dbname

        @cr.postcommit.add
        def _push_after_commit():
            ids = sorted(cr.postcommit.data.pop(POSTCOMMIT_KEY, ()))
            if ids:
                spawn(push_in_new_transactions, dbname, ids)

    cr.postcommit.data[POSTCOMMIT_KEY].update(worker_ids)


def pending(env):
    """Worker ids queued on this cursor and not pushed yet (for tests and debugging)."""
    return set(env.cr.postcommit.data.get(POSTCOMMIT_KEY, ()))


def spawn(func, *args):
    """Run ``func`` in a daemon thread. Module-level so tests can run it inline instead."""
    thread = threading.Thread(target=func, args=args, name="workshop_iot.config_push", daemon=True)
    thread.start()
    return thread


def push_in_new_transactions(dbname, worker_ids, attempts=2):
    """Thread body: push each worker's config in its own transaction, retrying once in-thread."""
    # Imported here: this module stays importable without a running registry (and for py_compile).
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    remaining = list(worker_ids)
    for attempt in range(1, attempts + 1):
        failed = []
        try:
            registry = Registry(dbname)
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                workers = env["workshop.worker"].browse(remaining).exists()
                failed = workers._push_config().ids
        except Exception:
            # A thread has nobody to raise to: log with the traceback (server log only) and leave
            # the retry to the cron, which sees push_state on the worker.
            _logger.exception("Config push to workers %s failed (attempt %s/%s)", remaining, attempt, attempts)
            return
        if not failed:
            return
        remaining = failed
        if attempt < attempts:
            time.sleep(IN_THREAD_RETRY_DELAY_S)


def backoff_s(attempts, base_s=30, cap_s=3600):
    """Delay before cron retry number ``attempts`` (1-based): 30 s, 60 s, 120 s ... capped at 1 h."""
    return min(cap_s, base_s * 2 ** max(attempts - 1, 0))
