"""Members' badge cards, and what the partner form shows of a member's workshop use."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools import rights
from ..tools.cards import normalize_card_id


class WorkshopMemberCard(models.Model):
    """A badge card of a member: a card id read at a badge reader maps to its partner. Managers
    only (access rules): card ids are credentials of a kind, staff never read them."""

    _name = "workshop.member.card"
    _description = "Workshop Member Card"
    _order = "partner_id, card_id"
    _rec_name = "card_id"
    _sql_constraints = [
        # Archived cards free their id (a card lost, then found and given to someone else).
        ("card_id_active_unique", "EXCLUDE (card_id WITH =) WHERE (active)",
         "Another active card already has this card id."),
    ]

    partner_id = fields.Many2one("res.partner", string="Member", required=True, index=True, ondelete="cascade")
    card_id = fields.Char(
        string="Card ID", required=True, index=True,
        help="As the reader sends it; stored normalized (spaces, ':' and '-' removed, no 0x, upper case), "
             "e.g. '04 a1:b2:c3' is stored as 04A1B2C3.")
    active = fields.Boolean(default=True)
    note = fields.Char(help="E.g. 'key fob', 'replaced on 2026-03-01'.")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "card_id" in vals:
                vals["card_id"] = self._normalized(vals["card_id"])
        # An archive pending in the cache must reach the table before the unique check does.
        self.flush_model(["active", "card_id"])
        return super().create(vals_list)

    def write(self, vals):
        if "card_id" in vals:
            vals = dict(vals, card_id=self._normalized(vals["card_id"]))
        return super().write(vals)

    @api.model
    def _normalized(self, raw):
        card_id = normalize_card_id(raw)
        if not card_id:
            raise ValidationError(_(
                "Card id %(raw)r: after removing spaces, ':' and '-' and a leading 0x, 1-64 letters and "
                "digits are expected.", raw=raw))
        return card_id

    @api.model
    def _members_by_card(self, card_ids):
        """{normalized card id: partner} of the active cards among ``card_ids``."""
        cards = self.sudo().search([("card_id", "in", list(card_ids))])
        return {card.card_id: card.partner_id for card in cards}


class ResPartner(models.Model):
    _inherit = "res.partner"

    workshop_card_ids = fields.One2many(
        "workshop.member.card", "partner_id", string="Workshop cards",
        groups="workshop_iot.workshop_iot_group_manager")
    workshop_session_count = fields.Integer(
        string="Machine sessions", compute="_compute_workshop_usage",
        groups="workshop_iot.workshop_iot_group_user")
    workshop_session_hours = fields.Float(
        string="Machine hours", compute="_compute_workshop_usage",
        groups="workshop_iot.workshop_iot_group_user", help="Total time of the member's machine sessions.")

    def _compute_workshop_usage(self):
        rows = self.env["workshop.session"]._read_group(
            [("member_id", "in", self.ids)], ["member_id"], ["__count", "total_hours:sum"])
        usage = {partner: (count, hours) for partner, count, hours in rows}
        for partner in self:
            partner.workshop_session_count, partner.workshop_session_hours = usage.get(partner, (0, 0.0))

    def action_view_workshop_sessions(self):
        """Smart button: the member's machine sessions (workshop users; AccessError otherwise)."""
        self.ensure_one()
        rights.require(self.env, rights.USER, _("Viewing a member's machine sessions"))
        action = self.env["ir.actions.act_window"]._for_xml_id("workshop_iot.workshop_session_action")
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {"search_default_member_id": self.id, "default_member_id": self.id}
        return action
