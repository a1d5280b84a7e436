"""18.0.1.1.0: a session's shown hours are computed from whole seconds, with working + standby
adding up to what is shown (tools/durations.py). Odoo recomputes a stored field on upgrade only
when its definition changes, not its compute method: recompute the stored hours of every session
written by an earlier version once, in batches (a workshop keeps years of sessions)."""

from odoo import SUPERUSER_ID, api

HOUR_FIELDS = ("total_hours", "working_hours", "standby_hours", "billable_hours")
BATCH = 5000


def migrate(cr, version):
    if not version:  # a fresh install computes them on create
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    recompute_session_hours(env)


def recompute_session_hours(env):
    model = env["workshop.session"].with_context(active_test=False)
    fields = [model._fields[name] for name in HOUR_FIELDS]
    ids = model.search([], order="id").ids
    for start in range(0, len(ids), BATCH):
        batch = model.browse(ids[start:start + BATCH])
        for field in fields:
            env.add_to_compute(field, batch)
        batch.flush_recordset(HOUR_FIELDS)
        env.invalidate_all()
