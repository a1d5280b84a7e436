"""Members' portal: a member sees their own sessions, hours and unbilled amount at
/my/machine-sessions, and nothing of anyone else's (pages and ORM)."""

import re
from datetime import timedelta
from unittest.mock import patch

from lxml import html

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.workshop_iot_portal.controllers.portal import WorkshopSessionPortal


@tagged("post_install", "-at_install")
class TestMemberPortal(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.member_a = new_test_user(cls.env, login="wiot-portal-a", groups="base.group_portal", name="Ada Member")
        cls.member_b = new_test_user(cls.env, login="wiot-portal-b", groups="base.group_portal", name="Bob Member")
        cls.worker = cls.env["workshop.worker"].create({"name": "Portal PC", "worker_uid": "wk-portal"})
        cls.laser = cls.env["workshop.device"].create({
            "name": "Laser cutter", "device_id": "shelly-portal-laser", "topic": "shelly-portal-laser",
            "worker_id": cls.worker.id, "billing_price_unit": 2.5})
        cls.lathe = cls.env["workshop.device"].create({
            "name": "Lathe", "device_id": "shelly-portal-lathe", "topic": "shelly-portal-lathe",
            "worker_id": cls.worker.id, "billing_price_unit": 4.0})
        cls.t0 = fields.Datetime.now().replace(microsecond=0) - timedelta(days=2)
        Session = cls.env["workshop.session"]
        cls.seq = 0

        def session(device, member, hours, amount, state, offset_h):
            cls.seq += 1
            started = cls.t0 + timedelta(hours=offset_h)
            seconds = hours * 3600.0
            return Session.create({
                "session_uid": "portal-%d" % cls.seq, "device_id": device.id, "member_id": member.partner_id.id,
                "started_at": started, "ended_at": started + timedelta(seconds=seconds), "state": "done",
                "total_s": seconds, "working_s": seconds, "standby_s": 0.0, "billable_s": seconds,
                "billing_units": int(hours * 4), "billing_amount": amount, "billing_state": state,
            })

        # Ada: 1:30 on the laser (to bill, 15.00), 2:00 on the lathe (billed, 32.00), 0:15 (to bill, 4.00).
        cls.a_laser = session(cls.laser, cls.member_a, 1.5, 15.0, "to_bill", 0)
        cls.a_lathe = session(cls.lathe, cls.member_a, 2.0, 32.0, "billed", 3)
        cls.a_short = session(cls.laser, cls.member_a, 0.25, 4.0, "to_bill", 6)
        # Bob: one session on the laser, never shown to Ada.
        cls.b_laser = session(cls.laser, cls.member_b, 3.0, 30.0, "to_bill", 1)
        cls.sessions_a = cls.a_laser | cls.a_lathe | cls.a_short

    def page(self, url, login="wiot-portal-a"):
        self.authenticate(login, login)
        return self.url_open(url)

    @staticmethod
    def linked_ids(body):
        return {int(i) for i in re.findall(r'href="/my/machine-sessions/(\d+)"', body)}

    # ------------------------------------------------------------------ list and detail pages
    def test_list_shows_the_members_own_sessions_only(self):
        response = self.page("/my/machine-sessions")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.linked_ids(response.text), set(self.sessions_a.ids))
        response = self.page("/my/machine-sessions", login="wiot-portal-b")
        self.assertEqual(self.linked_ids(response.text), {self.b_laser.id})

    def test_list_shows_the_members_hours_and_unbilled_amount(self):
        doc = html.fromstring(self.page("/my/machine-sessions").text)
        # Billable time of all of Ada's sessions: 1:30 + 2:00 + 0:15; not billed yet: 15.00 + 4.00.
        self.assertEqual(doc.get_element_by_id("wiot_member_hours").text_content().strip(), "3:45:00")
        unbilled = doc.get_element_by_id("wiot_member_unbilled").text_content()
        self.assertRegex(unbilled, r"19\.00")
        self.assertNotRegex(unbilled, r"(30|49|51|66)\.00")

    def test_another_members_session_is_not_found_by_url(self):
        own = self.page("/my/machine-sessions/%d" % self.a_laser.id)
        self.assertEqual(own.status_code, 200)
        self.assertIn("Laser cutter", own.text)
        amount = html.fromstring(own.text).get_element_by_id("wiot_session_amount").text_content()
        self.assertRegex(amount, r"\b15\.00\b")
        for session_id in (self.b_laser.id, self.b_laser.id + 10_000):  # someone else's; no such session
            response = self.page("/my/machine-sessions/%d" % session_id)
            self.assertEqual(response.status_code, 404, session_id)
            self.assertNotIn("Bob Member", response.text)

    def test_pager_and_sorting(self):
        with patch.object(WorkshopSessionPortal, "_items_per_page", 2):
            first = self.linked_ids(self.page("/my/machine-sessions?sortby=amount").text)
            second = self.linked_ids(self.page("/my/machine-sessions/page/2?sortby=amount").text)
        self.assertEqual(first, {self.a_lathe.id, self.a_laser.id})  # 32.00, 15.00
        self.assertEqual(second, {self.a_short.id})  # 4.00
        body = self.page("/my/machine-sessions?sortby=date").text
        order = [int(i) for i in re.findall(r'href="/my/machine-sessions/(\d+)"', body)]
        self.assertEqual(order, [self.a_short.id, self.a_lathe.id, self.a_laser.id])
        billed = self.linked_ids(self.page("/my/machine-sessions?filterby=billed").text)
        self.assertEqual(billed, {self.a_lathe.id})

    def test_home_counter_counts_the_members_sessions(self):
        self.authenticate("wiot-portal-a", "wiot-portal-a")
        result = self.make_jsonrpc_request("/my/counters", {"counters": ["machine_session_count"]})
        self.assertEqual(result["machine_session_count"], 3)
        self.authenticate("wiot-portal-b", "wiot-portal-b")
        result = self.make_jsonrpc_request("/my/counters", {"counters": ["machine_session_count"]})
        self.assertEqual(result["machine_session_count"], 1)
        home = html.fromstring(self.page("/my").text)
        self.assertTrue(home.xpath('//a[@href="/my/machine-sessions"]'), "no entry on /my")

    # ------------------------------------------------------------------ rights behind the pages
    def test_portal_rights_reach_own_sessions_only(self):
        Session = self.env["workshop.session"].with_user(self.member_a)
        self.assertEqual(Session.search([]), self.sessions_a)
        with self.assertRaises(AccessError):
            self.b_laser.with_user(self.member_a).read(["billing_amount"])
        with self.assertRaises(AccessError):
            self.a_laser.with_user(self.member_a).write({"billing_state": "billed"})
        for model in ("workshop.device", "workshop.worker", "workshop.broker", "workshop.event",
                      "workshop.discovered.meter"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.member_a).search([])
        with self.assertRaises(AccessError):
            self.laser.with_user(self.member_a).read(["name"])
