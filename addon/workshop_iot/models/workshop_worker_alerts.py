"""Worker alerts, evaluated whenever the fields they read are written (health cron, "Check now",
the worker's own reports, config pushes); bookkeeping in ``workshop_alert.py``:

- ``worker_offline``: shown offline (silent past the offline delay), or its last health check
  failed; closed when it is online with a successful health check (or, for a worker Odoo does not
  check, when it reports again). A worker that reports but whose URL Odoo cannot reach keeps ONE
  open alert (Odoo cannot push its config) instead of one per health check;
- ``push_failed``: the config push failed for good, or still fails after ``PUSH_ALERT_AFTER`` tries;
  closed when a push succeeds or the worker reports the config applied;
- ``dead_letters``: the worker reports events Odoo refused (its dead letters); closed at zero;
- ``degraded``: the worker's health is degraded (outbox over its cap, broker down, ...); closed when ok.

Plus the Odoo side of its event flow on the form: events of this worker waiting for the fold and
when the fold last applied one.
"""

from odoo import fields, models
from odoo.tools import SQL

PUSH_ALERT_AFTER = 3

# condition -> fields whose write may change it
WATCHED = {
    "worker_offline": {"status", "health_error"},
    "push_failed": {"push_state", "push_attempts"},
    "dead_letters": {"dead_letters"},
    "degraded": {"health_status"},
}


class WorkshopWorker(models.Model):
    _name = "workshop.worker"
    _inherit = ["workshop.worker", "mail.thread", "workshop.alert.mixin"]

    alert_user_id = fields.Many2one(
        "res.users", string="Responsible",
        help="Receives this worker's alerts (activities). Empty: Settings > Workshop IoT > Responsible for alerts.")
    fold_backlog = fields.Integer(
        string="Waiting for the fold", compute="_compute_fold_stats",
        help="Events of this worker Odoo received and has not yet applied to sessions and machines.")
    last_fold_at = fields.Datetime(
        string="Last fold", compute="_compute_fold_stats",
        help="When Odoo last applied an event of this worker to sessions and machines.")

    def _compute_fold_stats(self):
        for worker in self:
            if not worker.id:
                worker.fold_backlog, worker.last_fold_at = 0, False
                continue
            self.env.cr.execute(SQL(
                "SELECT count(*) FROM workshop_event WHERE state = 'pending' AND worker_id = %s", worker.id))
            worker.fold_backlog = self.env.cr.fetchone()[0]
            # Newest folded event first by id (the primary key's index), not a scan of write_date.
            self.env.cr.execute(SQL(
                """SELECT write_date FROM workshop_event WHERE worker_id = %s AND state != 'pending'
                   ORDER BY id DESC LIMIT 1""", worker.id))
            row = self.env.cr.fetchone()
            worker.last_fold_at = row[0] if row else False

    def _alert_responsible(self):
        return self.alert_user_id or super()._alert_responsible()

    def write(self, vals):
        res = super().write(vals)
        conditions = [name for name, watched in WATCHED.items() if watched.intersection(vals)]
        if conditions:
            self._alert_evaluate(conditions)
        return res

    def _alert_evaluate(self, conditions):
        _ = self.env._
        for worker in self.sudo():
            if "worker_offline" in conditions:
                worker._alert_set(
                    "worker_offline", worker.status == "offline" or bool(worker.health_error),
                    _("Worker unreachable") if worker.health_error else _("Worker offline"),
                    worker.health_error or _("Odoo has not heard of the worker for longer than the offline delay."),
                    _("The worker is online and answers again."))
            if "push_failed" in conditions:
                state = worker.push_state
                if state == "failed" or (state == "retry" and worker.push_attempts >= PUSH_ALERT_AFTER):
                    worker._alert_raise("push_failed", _("Config push failing"),
                                        _("Odoo cannot send this worker its config: %s", worker.push_error or ""))
                elif state in ("ok", "none"):
                    worker._alert_clear("push_failed", _("The worker applied its config."))
            if "dead_letters" in conditions:
                worker._alert_set(
                    "dead_letters", worker.dead_letters > 0,
                    _("%s dead letter(s)", worker.dead_letters),
                    _("The worker holds events Odoo refused: "
                      "open Dead letters on the worker form to retry or purge them."),
                    _("No dead letters left."))
            if "degraded" in conditions and worker.health_status:
                worker._alert_set(
                    "degraded", worker.health_status == "degraded",
                    _("Worker degraded"),
                    _("The worker needs attention (outbox over its cap, broker disconnected or refusing a "
                      "topic, or Odoo refusing its calls): see its health on the worker form and its log."),
                    _("The worker's health is OK again."))
