"""Claim from the dashboard: a workshop user taps a machine's tile and assigns its running session
(else its last one) to a member, found by name or by card; in a self-service kiosk, to themselves.

The server decides everything: which session (the machine's running or last one, never one the
browser names), who may claim (workshop users), what a claim may replace (a machine's default member,
a manager's assignment, an earlier claim; never a badge, never a billed session). Card ids are
looked up here, as superuser, and never sent to the browser: the answer carries partner names only.
"""

import re

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools import rights

CARD_MODEL = "workshop.member.card"  # cards on the partner (the badge module); optional here
MAX_QUERY = 128
MAX_RESULTS = 20
# The shared contract's CardId normalization (shared/src/contracts/worker-config.ts).
_CARD_NOISE_RE = re.compile(r"[\s:-]+")
_CARD_RE = re.compile(r"^[0-9A-Z]{1,64}$")


def normalize_card(text):
    """``text`` as the shared ``CardId`` (separators and a leading 0x dropped, upper case), or None."""
    card = _CARD_NOISE_RE.sub("", text or "").upper()
    if card.startswith("0X"):
        card = card[2:]
    return card if _CARD_RE.match(card) else None


class WorkshopDevice(models.Model):
    _inherit = "workshop.device"

    # ------------------------------------------------------------------ RPC (dashboard)
    @api.model
    def claim_member_search(self, query, limit=8):
        """Members to claim a session for: partners whose name contains ``query`` (the caller's own
        read rights) and, when the badge module's card model is installed, the holder of the active
        card ``query`` (searched as superuser). Returns ``[{"id", "name"}]``, the card holder first;
        the card id itself never leaves the server. Workshop users only."""
        rights.require(self.env, rights.USER, _("Claiming sessions"))
        if not isinstance(query, str) or len(query) > MAX_QUERY:
            raise UserError(_("Search for a member by name or card (at most %s characters).", MAX_QUERY))
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_RESULTS:
            raise UserError(_("The number of members to list must be between 1 and %s.", MAX_RESULTS))
        query = query.strip()
        if not query:
            return []
        partners = self.env["res.partner"]
        card = normalize_card(query)
        if card and CARD_MODEL in self.env:
            holder = self.env[CARD_MODEL].sudo().search([("card_id", "=", card)], limit=1).partner_id
            # Shown only if the caller may read that partner anyway: the card reveals no one new.
            partners |= holder.with_env(self.env)._filtered_access("read") if holder else holder
        partners |= partners.search([("name", "ilike", query)], limit=limit)
        return [{"id": p.id, "name": p.name or p.display_name} for p in partners[:limit]]

    def action_claim_session(self, partner_id):
        """Assign this machine's running session, else its last one, to the member ``partner_id``.

        Workshop users (AccessError otherwise). Refused with a clear message when the machine has no
        session, when its running session is not in Odoo yet, when the session is billed, or when a
        badge set a different member (a badge outranks a claim). Returns ``{"machine": <the
        machine's tile dict, also sent to every dashboard over the bus>, "member": {"id", "name"}}``."""
        rights.require(self.env, rights.USER, _("Claiming sessions"))
        if not isinstance(partner_id, int) or isinstance(partner_id, bool):
            raise UserError(_("Choose the member to claim the session for."))
        partner = self.env["res.partner"].browse(partner_id).exists()
        if not partner:
            raise UserError(_("The member to claim the session for no longer exists."))
        partner.check_access("read")
        return self._claim_for(partner)

    def action_claim_session_as_myself(self):
        """Self-service kiosk: claim this machine's running or last session for the logged-in user
        (their partner). Same rules as ``action_claim_session``."""
        # rights: rights.require raises AccessError unless the caller is a workshop user; _claim_for
        # then checks read access on the machine (check_access).
        rights.require(self.env, rights.USER, _("Claiming sessions"))
        return self._claim_for(self.env.user.partner_id)

    # ------------------------------------------------------------------ rules
    def _claim_for(self, partner):
        self.ensure_one()
        self.check_access("read")
        session = self._claimable_session()
        if session.billing_state == "billed":
            raise UserError(_("%s is already billed: ask a manager to change its member.", session.display_name))
        if session.member_source == "badge" and session.member_id != partner:
            raise UserError(_(
                "%(session)s was checked in with %(member)s's badge; a claim does not replace a badge. "
                "Ask a manager if the badge was wrong.", session=session.display_name, member=session.member_id.name))
        if session.member_id != partner or session.member_source not in ("claim", "badge"):
            # _set_member applies the precedence (a badge outranks a claim) without the manager
            # check a plain write of member_id does: a claim is the workshop user's own right.
            session._set_member(partner, "claim")
            session.message_post(
                body=_("Claimed on the dashboard by %(user)s for %(member)s.",
                       user=self.env.user.name, member=partner.name),
                author_id=self.env.user.partner_id.id, subtype_xmlid="mail.mt_note")
        device = self.sudo()
        device._notify_live_state()
        return {"machine": device._dashboard_payload()[0], "member": {"id": partner.id, "name": partner.name}}

    def _claimable_session(self):
        """The session a claim on this machine assigns (as superuser): the running one its live state
        reports, else the last one. A running session the worker reported but whose events are not
        folded yet is refused rather than silently replaced by the previous session."""
        self.ensure_one()
        Session = self.env["workshop.session"].sudo()
        if self.live_session_id:
            # After a split (a second member's badge) the running part is the worker session's last.
            running = Session.search([("device_id", "=", self.id), ("worker_session_uid", "=", self.live_session_id)],
                                     order="split_index desc", limit=1)
            if not running:
                raise UserError(_("The session running on %s has not reached Odoo yet: try again in a minute.",
                                  self.name))
            return running
        last = Session.search([("device_id", "=", self.id)], order="started_at desc, id desc", limit=1)
        if not last:
            raise UserError(_("%s has no session to claim yet.", self.name))
        return last

    def _live_member_names(self):
        """{device id: name of the member of its running session} for these machines, one query."""
        if not self:
            return {}
        self.flush_model(["live_session_id"])
        self.env["workshop.session"].flush_model(["worker_session_uid", "split_index", "device_id", "member_id"])
        self.env["res.partner"].flush_model(["name"])
        self.env.cr.execute(SQL(
            """SELECT d.id, p.name
                 FROM workshop_device d
                 -- after a split the running part is the last part of the worker's session
                 JOIN LATERAL (SELECT member_id FROM workshop_session s
                                WHERE s.worker_session_uid = d.live_session_id AND s.device_id = d.id
                                ORDER BY s.split_index DESC LIMIT 1) s ON TRUE
                 JOIN res_partner p ON p.id = s.member_id
                WHERE d.id = ANY(%s)""", self.ids))
        return dict(self.env.cr.fetchall())
