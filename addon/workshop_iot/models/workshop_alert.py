"""Alerts as Odoo activities: raised once per transition, closed with a note on recovery.

One activity type (``workshop_iot.mail_activity_type_alert``) and one marker on the activity
(``workshop_alert_condition``): a record has at most one open activity per condition, so a condition
evaluated again while its activity is open does nothing, and the same evaluation closes it (marked
done, with what cleared it) once the condition is gone. Where each condition is evaluated: readme
USAGE.md "Alerts". The callers decide when a condition holds; this module only does the bookkeeping.
"""

import logging

import psycopg2

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

ACTIVITY_TYPE = "workshop_iot.mail_activity_type_alert"
# System parameter of Settings > Workshop IoT > Alerts "Responsible for alerts".
PARAM_RESPONSIBLE = "workshop_iot.alert_user_id"


class MailActivity(models.Model):
    _inherit = "mail.activity"

    workshop_alert_condition = fields.Char(
        string="Workshop IoT alert", readonly=True, index="btree_not_null",
        help="Set on Workshop IoT alerts: which condition raised it (one open activity per record and condition).")

    def init(self):
        # "Once" held by the database too: two transactions raising the same alert at the same
        # moment (a worker's report and the health cron) cannot both open one.
        self.env.cr.execute(SQL(
            """CREATE UNIQUE INDEX IF NOT EXISTS mail_activity_workshop_alert_once
                   ON mail_activity (res_model, res_id, workshop_alert_condition)
                WHERE active AND workshop_alert_condition IS NOT NULL"""))


class WorkshopAlertMixin(models.AbstractModel):
    """Records that carry Workshop IoT alerts (machines, workers, the review digest). The model also
    inherits ``mail.thread`` (closing an alert posts its note in the chatter), listed before this
    mixin: not here, since the machine already has it."""

    _name = "workshop.alert.mixin"
    _description = "Workshop IoT alerts"
    _inherit = ["mail.activity.mixin"]

    def _alert_responsible(self):
        """The user an alert of this record goes to; overridden by each model."""
        return self.env["res.users"]._workshop_alert_default_user()

    def _alert_open(self, condition=None):
        """The open alert activities of these records (of ``condition`` when given)."""
        # "active" explicitly: callers may run with active_test=False (the fold reads archived
        # machines so), and a done alert is an archived activity.
        domain = [("res_model", "=", self._name), ("res_id", "in", self.ids),
                  ("workshop_alert_condition", "!=", False), ("active", "=", True)]
        if condition:
            domain.append(("workshop_alert_condition", "=", condition))
        return self.env["mail.activity"].sudo().search(domain)

    def _alert_raise(self, condition, summary, note=""):
        """Open an alert of ``condition`` on each record that has none open yet; returns the records
        that got one (the others keep their open activity, unchanged)."""
        already = set(self._alert_open(condition).mapped("res_id"))
        raised = self.browse()
        for record in self.filtered(lambda r: r.id not in already).sudo():
            try:
                with self.env.cr.savepoint():
                    record.activity_schedule(
                        ACTIVITY_TYPE, summary=summary, note=note,
                        user_id=record._alert_responsible().id, workshop_alert_condition=condition)
            except psycopg2.errors.UniqueViolation:
                _logger.info("Alert %s of %s already raised by a concurrent transaction", condition, record)
                continue
            raised |= record
        raised = self.browse(raised.ids)
        raised._alert_changed()
        return raised

    def _alert_update(self, condition, summary, note=""):
        """Raise, or refresh the text of the open alert (the review digest's count)."""
        open_ = self._alert_open(condition)
        for activity in open_:
            if activity.summary != summary:
                activity.write({"summary": summary, "note": note})
        return self._alert_raise(condition, summary, note)

    def _alert_clear(self, condition, note):
        """Mark the open alerts of ``condition`` on these records done, with ``note`` (what cleared
        it) in the record's chatter; returns the records whose alert was closed."""
        open_ = self._alert_open(condition)
        cleared = self.browse(open_.mapped("res_id"))
        if open_:
            open_.action_feedback(feedback=note)
        cleared._alert_changed()
        return cleared

    def _alert_set(self, condition, active, summary, note, cleared_note):
        """Raise when ``active``, else clear: for conditions evaluated at every change."""
        return self._alert_raise(condition, summary, note) if active else self._alert_clear(condition, cleared_note)

    def _alert_changed(self):
        """Hook: an alert of these records was raised or closed (machines tell the dashboard)."""


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _workshop_alert_default_user(self):
        """Settings > Workshop IoT "Responsible for alerts", else the administrator."""
        param = self.env["ir.config_parameter"].sudo().get_param(PARAM_RESPONSIBLE)
        user = self.sudo().browse(int(param)).exists() if param and param.isdigit() else self.browse()
        return user if user.active else self.env.ref("base.user_admin")


class WorkshopReviewDigest(models.Model):
    """One row per company: carries the single "sessions to review" alert of its manager."""

    _name = "workshop.review.digest"
    _description = "Sessions to review (alert digest)"
    _inherit = ["mail.thread", "workshop.alert.mixin"]
    _sql_constraints = [("company_unique", "UNIQUE(company_id)", "One review digest per company.")]

    name = fields.Char(required=True, default=lambda self: self.env._("Sessions to review"))
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    pending_count = fields.Integer(string="Sessions to review", compute="_compute_pending_count")

    def _compute_pending_count(self):
        counts = self._pending_counts()
        for digest in self:
            digest.pending_count = counts.get(digest.company_id.id, 0)

    @api.model
    def _pending_counts(self):
        groups = self.env["workshop.session"].sudo()._read_group(
            [("review_pending", "=", True)], ["company_id"], ["__count"])
        return {company.id: count for company, count in groups}

    def action_open_sessions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("workshop_iot.workshop_session_action")
        action["domain"] = [("review_pending", "=", True), ("company_id", "=", self.company_id.id)]
        return action

    @api.model
    def _refresh_unless_concurrent(self):
        """``_refresh`` from the fold, in a savepoint: two folds running at once (``SKIP LOCKED``)
        may both update the digest; the loser leaves it to the next fold or the alerts cron rather
        than failing its chunk of events."""
        try:
            with self.env.cr.savepoint():
                self._refresh()
        except (psycopg2.IntegrityError, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY) as exc:
            _logger.info("Review digest not refreshed, written concurrently (%s)", type(exc).__name__)

    @api.model
    def _refresh(self):
        """One alert per company while sessions wait for review, its summary counting them; closed
        at zero. Called after the fold, a review and by the alerts cron."""
        counts = self._pending_counts()
        digests = self.sudo().search([])
        companies = set(counts) - set(digests.company_id.ids)
        if companies:
            digests |= self.sudo().create([{"company_id": cid} for cid in companies])
        for digest in digests:
            count = counts.get(digest.company_id.id, 0)
            if count:
                digest._alert_update(
                    "review_pending",
                    self.env._("%(count)s session(s) to review in %(company)s", count=count,
                               company=digest.company_id.name),
                    self.env._("Flagged sessions wait for a manager's review before they can be billed."))
            else:
                digest._alert_clear("review_pending", self.env._("No session waits for review any more."))
