"""Review before billing: a flagged session (``needs_review``) is billed only after a manager has
reviewed it, with a note; the review is cleared when the session changes afterwards.

Rules (addon readme, USAGE.md "Review before billing"):

- flags: missing events (seq gaps), late events, offline segment (a device_offline report during the
  session, or an end by timeout), closed by Odoo, changed after billing, no start event;
- ``action_mark_reviewed`` (managers, a note required) records who, when and the note, in the chatter;
- any later change the fold makes to a reviewed session (a late event, a stop, a gap filled or found,
  an offline report) clears the review and says so in the chatter: the reviewed figures are no longer
  the session's, so the manager looks again. Member changes (claim, badge, manager) do not clear it:
  they change who pays, not how long the machine ran;
- ``_check_billable`` is the one gate: "Mark billed" and the invoicing module call it.
"""

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import rights

# Sessions named in one refusal; the rest are counted ("and 12 more").
MAX_NAMED = 20


class WorkshopSession(models.Model):
    _inherit = "workshop.session"

    def _review_reasons(self):
        """Short labels of the data-quality flags of this session, in the form's order."""
        self.ensure_one()
        reasons = []
        if self.seq_gap_count:
            reasons.append(self.env._("%s missing events", self.seq_gap_count))
        if self.late_event_count:
            reasons.append(self.env._("%s late events", self.late_event_count))
        if self.offline_segment:
            reasons.append(self.env._("offline segment"))
        if self.closed_by_odoo:
            reasons.append(self.env._("closed by Odoo"))
        if self.changed_after_billing:
            reasons.append(self.env._("changed after billing"))
        if self.state != "running" and not self.has_start_event:
            reasons.append(self.env._("no start event"))
        return reasons

    def _check_billable(self):
        """Raise ``UserError`` unless every session of ``self`` may be billed now.

        The one billing gate, for "Mark billed" and for the invoicing module (call it on the
        sessions about to be invoiced, before creating any line). A session may be billed when it is
        closed and, if flagged (``needs_review``), reviewed by a manager since its last change
        (``review_pending`` False). The message names each refused session by machine and start
        time (the user's timezone) with its flags, so the manager knows which to open. No rights
        check here: the caller's own action checks them; reads run as superuser so the message is
        complete whoever calls.
        """
        sessions = self.sudo()
        running = sessions.filtered(lambda s: s.state == "running")
        if running:
            raise UserError(self.env._("Running sessions cannot be billed yet: %s", _names(running)))
        pending = sessions.filtered("review_pending")
        if pending:
            lines = [self.env._("%(session)s (%(reasons)s)", session=s.display_name,
                                reasons=", ".join(s._review_reasons())) for s in pending[:MAX_NAMED]]
            if len(pending) > MAX_NAMED:
                lines.append(self.env._("and %s more", len(pending) - MAX_NAMED))
            raise UserError(self.env._(
                "These sessions are flagged and need a manager's review (Mark reviewed, with a note) "
                "before they can be billed:\n%s", "\n".join(lines)))

    def action_mark_reviewed(self, note=None):
        """Managers: record a review of these sessions with ``note``, in the chatter.

        Without a note (the form's button) it opens the dialog that asks for one; a blank note is
        refused. Written as superuser after the rights check: a billed session that changed after
        billing is frozen for managers by the record rules, yet is exactly the one to review.
        """
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Reviewing sessions"))
        if note is None:
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Mark reviewed"),
                "res_model": "workshop.session.review",
                "view_mode": "form",
                "target": "new",
                "context": {"default_session_ids": [fields.Command.set(self.ids)]},
            }
        note = (note or "").strip()
        if not note:
            raise UserError(self.env._("Write a review note: what you checked and why the session may be billed."))
        running = self.filtered(lambda s: s.state == "running")
        if running:
            raise UserError(self.env._("Running sessions are reviewed once they end: %s", _names(running)))
        unflagged = self.filtered(lambda s: not s.needs_review)
        if unflagged:
            raise UserError(self.env._(
                "These sessions have no data-quality flag, there is nothing to review: %s", _names(unflagged)))
        now = fields.Datetime.now()
        for session in self.sudo():
            session.write({"reviewed_by_id": self.env.uid, "reviewed_at": now, "review_note": note})
            session.message_post(
                body=self.env._("Reviewed (%(reasons)s): %(note)s",
                                reasons=", ".join(session._review_reasons()), note=note),
                author_id=self.env.user.partner_id.id, subtype_xmlid="mail.mt_note")
        self.env["workshop.review.digest"]._refresh()
        return True

    def _reset_review(self):
        """The fold changed these sessions: clear the review of those that had one, in the chatter."""
        reviewed = self.filtered("reviewed_at")
        if not reviewed:
            return
        reviewed.write({"reviewed_by_id": False, "reviewed_at": False, "review_note": False})
        for session in reviewed:
            session.message_post(
                body=self.env._(
                    "Review cleared: new events changed the session after it was reviewed (%s).",
                    ", ".join(session._review_reasons()) or self.env._("no flag left")),
                subtype_xmlid="mail.mt_note")


def _names(sessions):
    named = ", ".join(sessions[:MAX_NAMED].mapped("display_name"))
    extra = len(sessions) - MAX_NAMED
    return named + (" " + sessions.env._("and %s more", extra) if extra > 0 else "")


class WorkshopSessionReview(models.TransientModel):
    """The "Mark reviewed" dialog: the note a manager writes for the selected sessions."""

    _name = "workshop.session.review"
    _description = "Review of flagged machine sessions"

    session_ids = fields.Many2many("workshop.session", string="Sessions", readonly=True)
    note = fields.Text(
        string="Review note", required=True,
        help="What you checked (e.g. the machine log, the member's word) and why the time may be billed.")

    def action_confirm(self):
        """Managers (the dialog's ACL, and ``action_mark_reviewed`` checks again)."""
        self.ensure_one()
        # rights: the dialog's ACL is managers only, and action_mark_reviewed checks the manager
        # group again (rights.require -> AccessError) for the caller.
        self.session_ids.action_mark_reviewed(self.note or "")
        return {"type": "ir.actions.act_window_close"}
