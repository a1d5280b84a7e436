import uuid
from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# A Monday, 08:00 UTC = 09:00 in the workshop's timezone (Europe/Brussels, winter).
T0 = datetime(2026, 1, 5, 8, 0, 0)


class WorkshopInvoicingCase(AccountTestInvoicingCommon):
    """Odoo's invoicing test company (chart of accounts, sales journal, taxes) plus two machines
    invoiced as a service, two members, and the roles that may or may not invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # Odoo's accountant test user also manages the workshop (machines are managers' records).
        cls.env.user.sudo().groups_id += cls.env.ref("workshop_iot.workshop_iot_group_manager")
        cls.env["ir.config_parameter"].set_param("workshop_iot.timezone", "Europe/Brussels")
        cls.machine_hour = cls._create_product(name="Machine time", type="service", lst_price=10.0)
        cls.laser = cls.env["workshop.device"].create({
            "name": "Laser", "device_id": "inv-laser", "topic": "shellyplus1pm-inv-laser",
            "billing_unit_minutes": 15, "invoice_product_id": cls.machine_hour.id,
        })
        cls.lathe = cls.env["workshop.device"].create({
            "name": "Lathe", "device_id": "inv-lathe", "topic": "shellyplus1pm-inv-lathe",
            "billing_unit_minutes": 15, "invoice_product_id": cls.machine_hour.id,
        })
        cls.alice = cls.env["res.partner"].create({"name": "Alice Member"})
        cls.bob = cls.env["res.partner"].create({"name": "Bob Member"})
        cls.staff = new_test_user(cls.env, login="inv-staff", groups="workshop_iot.workshop_iot_group_user")
        cls.manager = new_test_user(cls.env, login="inv-manager", groups="workshop_iot.workshop_iot_group_manager")
        cls.biller = new_test_user(cls.env, login="inv-biller", groups="base.group_user,account.group_account_invoice")

    def make_session(self, device, member, hours_after_t0, minutes, **vals):
        """A closed session of ``minutes`` working time (units of 15 min, rounded up)."""
        started = T0 + timedelta(hours=hours_after_t0)
        # Sessions are created by the fold (as superuser), never by a user.
        session = self.env["workshop.session"].sudo().create({
            "session_uid": str(uuid.uuid4()), "device_id": device.id, "member_id": member.id if member else False,
            "started_at": started, "ended_at": started + timedelta(minutes=minutes), "state": "done",
            "stop_reason": "power_off", "has_start_event": True, "has_stop_event": True,
            "total_s": minutes * 60.0, "working_s": minutes * 60.0, **vals,
        })
        session._update_billing()
        return session.sudo(False)

    def member_pricelist(self, member, price):
        pricelist = self.env["product.pricelist"].create({
            "name": "Members %s" % member.name,
            "item_ids": [Command.create({"applied_on": "0_product_variant", "product_id": self.machine_hour.id,
                                         "compute_price": "fixed", "fixed_price": price})],
        })
        member.property_product_pricelist = pricelist
        return pricelist

    def invoice(self, sessions, user=None):
        """'Create invoices' as ``user`` (default: the billing user); returns the InvoicingResult."""
        return sessions.with_user(user or self.biller)._create_invoices_as_caller()
