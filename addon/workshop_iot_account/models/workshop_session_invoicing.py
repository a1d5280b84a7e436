"""Draft customer invoices from machine sessions: "Create invoices" (sessions list) and the
scheduled run. One invoice per member and company; one line per session, or per machine and period
(the company's setting). Sessions that cannot be invoiced are listed, never silently dropped.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.workshop_iot.tools import rights

_logger = logging.getLogger(__name__)

BILLING = "account.group_account_invoice"
# How many sessions a notification names per reason before "and N more".
LISTED_MAX = 15


@dataclass
class InvoicingResult:
    """What one run did: the invoices, the sessions on them, and the sessions left out, by reason."""

    moves: models.BaseModel
    invoiced: models.BaseModel
    skipped: dict = field(default_factory=dict)  # reason label -> sessions


class WorkshopSession(models.Model):
    _inherit = "workshop.session"

    # ------------------------------------------------------------------ rights and review
    def _check_invoicing_rights(self):
        """Billing users (Invoicing) and workshop managers may invoice; a workshop user may not."""
        user = self.env.user
        if self.env.su or user.has_group(BILLING) or user.has_group(rights.MANAGER):
            return
        raise AccessError(_(
            "Creating invoices from machine sessions is reserved to %(billing)s and %(manager)s (you are %(user)s).",
            billing=self.env.ref(BILLING).sudo().full_name,
            manager=self.env.ref(rights.MANAGER).sudo().full_name, user=user.name))

    def _check_reviewed(self):
        """Refuse unreviewed flagged sessions, naming them. The review gate of workshop_iot
        (``_check_billable``) decides when it is there; before it, every flagged session is refused."""
        if hasattr(type(self), "_check_billable"):
            self._check_billable()
            return
        flagged = self.filtered("needs_review")
        if flagged:
            raise UserError(_(
                "These sessions are flagged and need a manager's review before they can be invoiced: %(names)s.",
                names=_names(flagged)))

    def _split_reviewed(self):
        """(reviewed, refused): for the scheduled run, which skips refused sessions instead of failing."""
        candidates = self.filtered("needs_review")
        if not hasattr(type(self), "_check_billable"):
            return self - candidates, candidates
        refused = self.browse()
        for session in candidates:
            try:
                session._check_billable()
            except UserError:
                refused |= session
        return self - refused, refused

    # ------------------------------------------------------------------ action
    def action_create_invoices(self):
        """Sessions list > Create invoices: draft invoices for the selected sessions that can be
        invoiced; a notification lists the others and opens the invoices."""
        # rights: _create_invoices_as_caller checks the caller (Billing user or workshop manager,
        # AccessError otherwise) before anything is read or made as superuser.
        return self._invoicing_notification(self._create_invoices_as_caller())

    def _create_invoices_as_caller(self):
        """Rights of the caller checked here; the invoices are then made as superuser, since a
        workshop manager need not have Invoicing rights (the invoices name him as salesperson)."""
        self._check_invoicing_rights()
        return self.sudo()._create_invoices()

    def _invoicing_notification(self, result):
        lines = [_("%(count)s session(s) on %(invoices)s draft invoice(s).",
                   count=len(result.invoiced), invoices=len(result.moves))]
        for reason, sessions in result.skipped.items():
            lines.append(_("Not invoiced, %(reason)s: %(names)s", reason=reason, names=_names(sessions)))
        next_action = {"type": "ir.actions.client", "tag": "soft_reload"}
        if result.moves:
            next_action = {
                "type": "ir.actions.act_window", "name": _("Invoices from machine sessions"),
                "res_model": "account.move", "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
                "domain": [("id", "in", result.moves.ids)],
                "context": {"default_move_type": "out_invoice"},
            }
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {
                "title": _("Create invoices"), "message": "\n".join(lines),
                "type": "warning" if result.skipped else "success",
                "sticky": bool(result.skipped), "next": next_action,
            },
        }

    # ------------------------------------------------------------------ invoicing
    def _create_invoices(self):
        """Invoice ``self`` (already rights-checked; runs as superuser). Returns an InvoicingResult."""
        skipped = {}
        not_to_bill = self.filtered(lambda s: s.billing_state != "to_bill")
        rest = self - not_to_bill
        no_member = rest.filtered(lambda s: not s.member_id)
        rest -= no_member
        no_product = rest.filtered(lambda s: not s.device_id.invoice_product_id)
        rest -= no_product
        for reason, sessions in ((_("still running or already billed"), not_to_bill),
                                 (_("no member"), no_member),
                                 (_("no invoiced product on the machine"), no_product)):
            if sessions:
                skipped[reason] = sessions
        if not rest:
            return InvoicingResult(self.env["account.move"], rest, skipped)
        rest._check_reviewed()
        rest._lock_for_invoicing()

        plan = rest._invoice_plan()
        moves = self.env["account.move"].sudo().with_context(default_move_type="out_invoice").create(
            [vals for vals, _lines in plan])
        now, uid = fields.Datetime.now(), self.env.uid
        for move, (_vals, line_sessions) in zip(moves, plan):
            line_of = {line.sequence: line for line in move.invoice_line_ids}
            for sequence, sessions in line_sessions.items():
                sessions.write({"invoice_line_id": line_of[sequence].id, "billing_state": "billed",
                                "billed_at": now, "billed_by_id": uid})
        _logger.info("Invoiced %s machine session(s) on %s draft invoice(s); %s left out",
                     len(rest), len(moves), sum(len(s) for s in skipped.values()))
        return InvoicingResult(moves, rest, skipped)

    def _lock_for_invoicing(self):
        """Row locks, so that two users invoicing the same sessions at once cannot both bill them:
        the second waits, then fails to serialize and Odoo retries it against the first's result."""
        self.env.cr.execute("SELECT id FROM workshop_session WHERE id IN %s FOR UPDATE", [tuple(self.ids)])

    def _invoice_company(self):
        """The company that invoices this session: its own (multi-company), else its machine's, else
        the current company (the scheduled run sets it to the company it runs for)."""
        if "company_id" in self._fields and self.company_id:
            return self.company_id
        if "company_id" in self.device_id._fields and self.device_id.company_id:
            return self.device_id.company_id
        return self.env.company

    def _invoice_plan(self):
        """[(move vals, {line sequence: sessions})], one move per member and company."""
        groups = defaultdict(lambda: self.browse())
        for session in self.sorted(lambda s: (s.started_at, s.id)):
            groups[(session.member_id, session._invoice_company())] |= session
        tz = self.env["workshop.device"]._workshop_tz()
        today = fields.Date.context_today(self)
        journals, prices = {}, {}
        plan = []
        for (member, company), sessions in sorted(groups.items(), key=lambda kv: (kv[0][1].id, kv[0][0].id)):
            if company not in journals:
                journals[company] = self.env["account.journal"].search(
                    [*self.env["account.journal"]._check_company_domain(company), ("type", "=", "sale")], limit=1)
                if not journals[company]:
                    raise UserError(_("%(company)s has no sales journal: set up Invoicing for it first.",
                                      company=company.name))
            pricelist = member.with_company(company).property_product_pricelist
            currency = pricelist.currency_id or company.currency_id
            line_sessions, line_vals = {}, []
            for sequence, (device, items) in enumerate(_line_groups(sessions, company.workshop_invoice_grouping), 1):
                units = sum(items.mapped("billing_units"))
                product = device.invoice_product_id
                if device.invoice_fixed_price:
                    price = device.currency_id._convert(device.billing_price_unit, currency, company, today)
                else:
                    key = (pricelist.id, product.id, units, currency.id)
                    if key not in prices:
                        prices[key] = pricelist._get_product_price(product, units, currency=currency, date=today)
                    price = prices[key]
                line_vals.append(Command.create({
                    "sequence": sequence, "product_id": product.id, "quantity": units, "price_unit": price,
                    "name": _line_label(device, items, tz),
                }))
                line_sessions[sequence] = items
            plan.append(({
                "move_type": "out_invoice", "partner_id": member.id, "company_id": company.id,
                "journal_id": journals[company].id, "currency_id": currency.id,
                "invoice_origin": _("Machine sessions"), "invoice_user_id": self.env.uid,
                "invoice_line_ids": line_vals,
            }, line_sessions))
        return plan

    # ------------------------------------------------------------------ scheduled run
    @api.model
    def _cron_create_invoices(self, now=None):
        """Cron "Invoice machine sessions" (daily): for each company with a weekly or monthly schedule
        whose period has turned since its last run, invoice the sessions to bill that started before
        the period began. Unreviewed flagged sessions and those without member or product are left
        to bill and logged; they are taken by a later run once fixed."""
        now = now or fields.Datetime.now()
        tz = self.env["workshop.device"]._workshop_tz()
        results = {}
        for company in self.env["res.company"].search([("workshop_invoice_schedule", "!=", "off")]):
            cutoff = _period_start(now, tz, company.workshop_invoice_schedule)
            if company.workshop_invoice_cutoff and company.workshop_invoice_cutoff >= cutoff:
                continue
            sessions = self.with_company(company).search(
                [*self._company_domain(company), ("billing_state", "=", "to_bill"), ("started_at", "<", cutoff)])
            reviewed, refused = sessions._split_reviewed()
            result = reviewed._create_invoices()
            if refused:
                result.skipped[_("not reviewed")] = refused
            for reason, skipped in result.skipped.items():
                _logger.info("Scheduled invoicing of %s: %s session(s) not invoiced, %s: %s",
                             company.name, len(skipped), reason, _names(skipped))
            company.workshop_invoice_cutoff = cutoff
            results[company] = result
        return results

    @api.model
    def _company_domain(self, company):
        """Domain of ``company``'s sessions. Before sessions or machines carry a company, every
        session is the company's that runs the schedule (one company per database)."""
        if "company_id" in self._fields:
            return [("company_id", "=", company.id)]
        if "company_id" in self.env["workshop.device"]._fields:
            return [("device_id.company_id", "=", company.id)]
        return []


def _names(sessions):
    names = sessions[:LISTED_MAX].mapped("display_name")
    more = len(sessions) - len(names)
    return ", ".join(names) + (" " + _("and %(count)s more", count=more) if more > 0 else "")


def _line_groups(sessions, grouping):
    """[(machine, sessions)] in invoice order: one per session, or one per machine."""
    if grouping == "machine":
        by_device = defaultdict(lambda: sessions.browse())
        for session in sessions:
            by_device[session.device_id] |= session
        return sorted(by_device.items(), key=lambda kv: (kv[0].name or "", kv[0].id))
    return [(session.device_id, session) for session in sessions]


def _local(value, tz):
    return pytz.utc.localize(value).astimezone(tz)


def _line_label(device, sessions, tz):
    """'Laser, 2026-12-01 08:00-09:15 (5 x 15 min)' for a session; for a machine and period
    'Laser, 2026-12-01 - 2026-12-05: 4 sessions (12 x 15 min)'. Workshop timezone."""
    units = sum(sessions.mapped("billing_units"))
    unit = "%s x %s min" % (units, device.billing_unit_minutes)
    start = _local(min(sessions.mapped("started_at")), tz)
    end = _local(max(s.ended_at or s.started_at for s in sessions), tz)
    if len(sessions) == 1:
        same_day = start.date() == end.date()
        period = "%s-%s" % (start.strftime("%Y-%m-%d %H:%M"), end.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M"))
        return "%s, %s (%s)" % (device.name, period, unit)
    return "%s, %s - %s: %s sessions (%s)" % (
        device.name, start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d"), len(sessions), unit)


def _period_start(now, tz, schedule):
    """Naive UTC start of the current week (Monday) or month, midnight in the workshop timezone."""
    local = _local(now, tz).date()
    day = local - timedelta(days=local.weekday()) if schedule == "weekly" else local.replace(day=1)
    return tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
