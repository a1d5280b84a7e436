"""``/my/machine-sessions``: a member's own machine sessions in the customer portal (list with
pager and sorting, a detail page, a counter on ``/my``).

Every read goes through the portal user's own rights first (the record rule of
``security/workshop_iot_portal_security.xml``: the sessions of their commercial partner); only what
passed is then rendered with ``sudo()``, because portal users have no access to machines, whose
name a session shows (Odoo's portal does the same with ``_document_check_access``)."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.addons.workshop_iot.tools import durations

COUNTER = "machine_session_count"
LIST_URL = "/my/machine-sessions"


def member_domain(partner):
    """Sessions of ``partner``'s commercial partner (the member and its contacts). The record rule
    enforces the same for portal users; the domain also keeps an internal user's own page to their
    own sessions."""
    return [("member_id", "child_of", [partner.commercial_partner_id.id])]


class WorkshopSessionPortal(CustomerPortal):

    def _machine_session_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "started_at desc, id desc"},
            "machine": {"label": request.env._("Machine"), "order": "device_id, started_at desc, id desc"},
            "hours": {"label": request.env._("Billable time"), "order": "billable_hours desc, id desc"},
            "amount": {"label": request.env._("Amount"), "order": "billing_amount desc, id desc"},
        }

    def _machine_session_filters(self):
        return {
            "all": {"label": request.env._("All"), "domain": []},
            "to_bill": {"label": request.env._("Not billed yet"), "domain": [("billing_state", "!=", "billed")]},
            "billed": {"label": request.env._("Billed"), "domain": [("billing_state", "=", "billed")]},
        }

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if COUNTER in counters:
            Session = request.env["workshop.session"]
            values[COUNTER] = (Session.search_count(member_domain(request.env.user.partner_id))
                               if Session.has_access("read") else 0)
        return values

    @staticmethod
    def _member_totals(domain):
        """``(billable hours, [(currency, unbilled amount)])`` of the sessions of ``domain`` the
        caller may read, summed by PostgreSQL (a member keeps years of sessions). The amounts are
        per currency: machines may bill in different currencies."""
        Session = request.env["workshop.session"]
        [[hours]] = Session._read_group(domain, aggregates=["billable_hours:sum"])
        by_device = Session._read_group(domain + [("billing_state", "!=", "billed")], ["device_id"],
                                        ["billing_amount:sum"])
        amounts = {}
        for device, amount in by_device:
            currency = device.sudo().currency_id  # sudo: portal users do not read machines
            amounts[currency] = amounts.get(currency, 0.0) + amount
        return hours or 0.0, sorted(amounts.items(), key=lambda item: item[0].name or "")

    @http.route([LIST_URL, LIST_URL + "/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_machine_sessions(self, page=1, sortby=None, filterby=None, **kw):
        Session = request.env["workshop.session"]
        if not Session.has_access("read"):
            raise NotFound()
        sortings, filters = self._machine_session_sortings(), self._machine_session_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        mine = member_domain(request.env.user.partner_id)
        domain = mine + filters[filterby]["domain"]
        pager = portal_pager(url=LIST_URL, total=Session.search_count(domain), page=page,
                             step=self._items_per_page, url_args={"sortby": sortby, "filterby": filterby})
        sessions = Session.search(domain, order=sortings[sortby]["order"], limit=self._items_per_page,
                                  offset=pager["offset"])
        hours, unbilled = self._member_totals(mine)
        values = self._prepare_portal_layout_values()
        values.update({
            "sessions": sessions.sudo(),  # read above with the member's rights; sudo shows the machine
            "page_name": "machine_session",
            "default_url": LIST_URL,
            "pager": pager,
            "sortby": sortby,
            "searchbar_sortings": sortings,
            "filterby": filterby,
            "searchbar_filters": filters,
            "member_hours": hours,
            "member_unbilled": unbilled,
            "format_hours": self._format_hours,
        })
        return request.render("workshop_iot_portal.portal_my_machine_sessions", values)

    @http.route([LIST_URL + "/<int:session_id>"], type="http", auth="user", website=True)
    def portal_my_machine_session(self, session_id, **kw):
        """One session; 404 for a session that does not exist or is not the member's (the same
        answer for both: the page does not tell whether someone else's session exists)."""
        session = request.env["workshop.session"].browse(session_id)
        try:
            session.check_access("read")
            session_sudo = session.sudo().exists()
        except (AccessError, MissingError):
            raise NotFound() from None
        if not session_sudo:
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update({
            "machine_session": session_sudo,
            "page_name": "machine_session",
            "format_hours": self._format_hours,
        })
        return request.render("workshop_iot_portal.portal_my_machine_session", values)

    @staticmethod
    def _format_hours(hours):
        """'H:MM:SS', as the dashboard and the backend lists show durations (short sessions too)."""
        return durations.format_hms((hours or 0.0) * 3600.0)
