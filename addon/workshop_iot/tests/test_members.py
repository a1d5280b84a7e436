"""Members on sessions (issue 16): cards, badge readers, attribution rules of readme/USAGE.md."""

import itertools

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..schema import generated
from ..tools import config_push
from .common import EventFactory, WorkshopIotCase


class MembersCase(WorkshopIotCase):
    """Two members with a card each, a badge reader next to the laser, a 180 s laser session."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner, Card = cls.env["res.partner"], cls.env["workshop.member.card"]
        cls.alice = Partner.create({"name": "Alice Maker"})
        cls.bob = Partner.create({"name": "Bob Builder"})
        cls.rental = Partner.create({"name": "Rental Customer"})
        Card.create([{"partner_id": cls.alice.id, "card_id": "04 a1:b2:c3"},
                     {"partner_id": cls.bob.id, "card_id": "0xDEADBEEF"}])
        cls.reader = cls.env["workshop.badge.reader"].create({
            "name": "Laser reader", "reader_id": "tasmota-rfid-laser", "topic": "tasmota_rfid_laser",
            "device_id": cls.device.id})
        # Billing the laser by started 1-minute units of working time, 10 per unit.
        cls.device.write({"billing_unit_minutes": 1, "billing_price_unit": 10.0})
        cls.badge_seq = itertools.count(1)

    def badge(self, offset_s, card="04A1B2C3", reader=None, machine=None):
        payload = {"card_id": card, "machine_device_id": machine or self.device.device_id}
        return self.events.event("badge_presented", reader or self.reader.reader_id, next(self.badge_seq),
                                 payload, offset_s)

    def lifecycle(self, uid, seq0=1):
        """start at 0, reports at 60 and 120 s, stop at 180 s: 150 s working, 30 s standby."""
        ev, dev = self.events, self.device
        return [
            ev.started(dev, seq0, uid),
            ev.heartbeat(dev, seq0 + 1, uid, 60, working_s=50.0, standby_s=10.0),
            ev.heartbeat(dev, seq0 + 2, uid, 120, working_s=100.0, standby_s=20.0),
            ev.stopped(dev, seq0 + 3, uid, 180, working_s=150.0, standby_s=30.0),
        ]

    def session_from(self, start_s, uid, seq0):
        """A 50 s session starting ``start_s`` after t0 (start and stop events)."""
        ev = EventFactory(self.worker.worker_uid, self.events.at(start_s))
        return [ev.started(self.device, seq0, uid),
                ev.stopped(self.device, seq0 + 1, uid, 50, working_s=40.0, standby_s=0.0)]

    def parts(self, uid):
        return self.env["workshop.session"].search([("worker_session_uid", "=", uid)], order="split_index")


@tagged("post_install", "-at_install")
class TestMemberCards(MembersCase):

    def test_card_id_is_normalized_like_the_contract(self):
        card = self.env["workshop.member.card"].search([("partner_id", "=", self.alice.id)])
        self.assertEqual(card.card_id, "04A1B2C3")
        bob = self.env["workshop.member.card"].search([("partner_id", "=", self.bob.id)])
        self.assertEqual(bob.card_id, "DEADBEEF", "a leading 0x is dropped")
        self.assertEqual(generated.validate_event(dict(self.badge(0, card=card.card_id))), [])
        with self.assertRaisesRegex(ValidationError, "1-64 letters and digits"):
            self.env["workshop.member.card"].create({"partner_id": self.bob.id, "card_id": "04:ä1"})

    def test_card_id_unique_among_active_cards_only(self):
        Card = self.env["workshop.member.card"]
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            Card.create({"partner_id": self.bob.id, "card_id": "04-A1-B2-C3"})
        Card.search([("card_id", "=", "04A1B2C3")]).action_archive()
        moved = Card.create({"partner_id": self.bob.id, "card_id": "04-A1-B2-C3"})
        self.assertEqual(moved.card_id, "04A1B2C3")

    def test_workshop_user_cannot_read_card_ids(self):
        staff_cards = self.env["workshop.member.card"].with_user(self.staff)
        with self.assertRaises(AccessError):
            staff_cards.search_read([], ["card_id"])
        with self.assertRaises(AccessError):
            self.alice.with_user(self.staff).read(["workshop_card_ids"])
        manager_view = self.alice.with_user(self.manager).read(["workshop_card_ids"])
        self.assertEqual(len(manager_view[0]["workshop_card_ids"]), 1)

    def test_partner_smart_button_counts_sessions_and_hours(self):
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid) + [self.badge(5)])
        alice = self.alice.with_user(self.staff)
        self.assertEqual(alice.workshop_session_count, 1)
        self.assertAlmostEqual(alice.workshop_session_hours, 180 / 3600.0)
        action = alice.action_view_workshop_sessions()
        self.assertEqual(self.env["workshop.session"].search(action["domain"]), self.parts(uid))


@tagged("post_install", "-at_install")
class TestBadgeReaders(MembersCase):

    def test_config_push_carries_the_readers(self):
        config = self.worker._build_valid_config()
        self.assertEqual(config["badge_readers"], [{
            "reader_id": "tasmota-rfid-laser", "name": "Laser reader", "parser_type": "tasmota",
            "topic": "tasmota_rfid_laser", "machine_device_id": "shelly-laser"}])
        generic = self.env["workshop.badge.reader"].create({
            "name": "Lathe reader", "reader_id": "esp-rfid-lathe", "parser_type": "generic_json",
            "topic": "esphome/rfid-lathe/state", "card_path": "card.uid", "device_id": self.device2.id})
        config = self.worker._build_valid_config()
        self.assertEqual(config["badge_readers"][0]["card_path"], "card.uid")
        self.assertEqual(generic.worker_id, self.worker, "the reader belongs to its machine's worker")

    def test_reader_changes_push_the_config(self):
        for change in ({"topic": "tasmota_rfid_laser2"}, {"active": False}):
            version = self.worker.config_version
            self.env.cr.postcommit.clear()
            self.reader.write(change)
            self.assertEqual(config_push.pending(self.env), {self.worker.id}, change)
            self.assertEqual(self.worker.config_version, version + 1)
        self.assertNotIn("badge_readers", self.worker._build_valid_config(), "archived readers are not pushed")

    def test_reader_id_must_not_be_a_machine_id(self):
        with self.assertRaisesRegex(ValidationError, "already a machine's device id"):
            self.env["workshop.badge.reader"].create({
                "name": "Clash", "reader_id": self.device2.device_id, "topic": "x", "device_id": self.device2.id})
        with self.assertRaisesRegex(ValidationError, "already a badge reader's id"):
            self.device2.device_id = self.reader.reader_id


@tagged("post_install", "-at_install")
class TestAttribution(MembersCase):
    """Each rule of readme/USAGE.md "Who used the machine"."""

    def test_machine_default_member_when_no_other_source(self):
        self.device.default_member_id = self.rental
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid))
        session = self.parts(uid)
        self.assertEqual((session.member_id, session.member_source), (self.rental, "machine"))

    def test_badge_during_session_attributes_it(self):
        self.device.default_member_id = self.rental
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid)[:2] + [self.badge(70)])
        session = self.parts(uid)
        self.assertEqual((session.member_id, session.member_source), (self.alice, "badge"))
        badge = self.env["workshop.event"].search([("event_type", "=", "badge_presented")])
        self.assertEqual((badge.state, badge.member_id, badge.session_id, badge.device_id),
                         ("processed", self.alice, session, self.device))

    def test_badge_before_start_within_window(self):
        self.env["ir.config_parameter"].set_param("workshop_iot.badge_window_s", "120")
        uid = self.new_session()
        self.ingest_and_fold([self.badge(-100)] + self.lifecycle(uid))
        self.assertEqual(self.parts(uid).member_id, self.alice)

    def test_badge_folded_before_the_start_event_still_attributes(self):
        uid = self.new_session()
        self.ingest_and_fold([self.badge(-30)])
        badge = self.env["workshop.event"].search([("event_type", "=", "badge_presented")])
        self.assertEqual((badge.state, badge.member_id, badge.session_id.id), ("processed", self.alice, False))
        self.ingest_and_fold(self.lifecycle(uid))
        self.assertEqual((self.parts(uid).member_id, self.parts(uid).member_source), (self.alice, "badge"))
        self.assertEqual(badge.session_id, self.parts(uid), "the badge event now points at the session")

    def test_badge_before_start_outside_window(self):
        self.env["ir.config_parameter"].set_param("workshop_iot.badge_window_s", "60")
        uid = self.new_session()
        self.ingest_and_fold([self.badge(-100)] + self.lifecycle(uid))
        self.assertFalse(self.parts(uid).member_id)

    def test_badge_after_session_goes_to_the_next_one(self):
        first, second = self.new_session(), self.new_session()
        later = self.session_from(250, second, 10)
        self.ingest_and_fold(self.lifecycle(first) + [self.badge(200)] + later)
        self.assertFalse(self.parts(first).member_id, "a badge after the end does not attribute it")
        self.assertEqual(self.parts(second).member_id, self.alice)

    def test_badge_while_machine_busy_does_not_reach_the_next_session(self):
        first, second = self.new_session(), self.new_session()
        later = self.session_from(250, second, 10)
        self.ingest_and_fold(self.lifecycle(first) + [self.badge(170)] + later)
        self.assertEqual(self.parts(first).member_id, self.alice)
        self.assertFalse(self.parts(second).member_id, "the badge belonged to the session running then")

    def test_second_members_badge_splits_the_session(self):
        uid = self.new_session()
        events = self.lifecycle(uid)
        whole = self.env["workshop.session"]._billing_vals(self.device, 150.0, 30.0, "done")
        # Alice badges, the machine runs; Bob badges at 90 s; the last report and the stop come after.
        self.ingest_and_fold(events[:2] + [self.badge(5), self.badge(90, card="DEADBEEF")])
        self.ingest_and_fold(events[2:])
        first, second = self.parts(uid)
        self.assertEqual((first.member_id, second.member_id), (self.alice, self.bob))
        self.assertEqual((first.session_uid, second.session_uid), (uid, uid + "/1"))
        self.assertEqual((first.started_at, first.ended_at), (self.events.at(0), self.events.at(90)))
        self.assertEqual((second.started_at, second.ended_at), (self.events.at(90), self.events.at(180)))
        self.assertEqual((first.stop_reason, second.stop_reason), ("member_change", "power_off"))
        # Linear between the reports at 60 s (50/10) and 120 s (100/20): 75 s working, 15 s standby at 90 s.
        self.assertAlmostEqual(first.working_s, 75.0)
        self.assertAlmostEqual(first.standby_s, 15.0)
        self.assertAlmostEqual(first.working_s + second.working_s, 150.0)
        self.assertAlmostEqual(first.standby_s + second.standby_s, 30.0)
        self.assertAlmostEqual(first.total_s + second.total_s, 180.0)
        self.assertEqual(first.billing_units + second.billing_units, whole["billing_units"])
        self.assertAlmostEqual(first.billing_amount + second.billing_amount, whole["billing_amount"])
        self.assertEqual((first.billing_units, second.billing_units), (2, 1))
        stop = self.env["workshop.event"].search([("session_uid", "=", uid), ("event_type", "=", "session_stopped")])
        late_report = self.env["workshop.event"].search([("session_uid", "=", uid), ("seq", "=", 3)])
        self.assertEqual(stop.session_id, second, "later events of the worker session land on the second part")
        self.assertEqual(late_report.session_id, second)

    def test_same_members_second_badge_does_not_split(self):
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid) + [self.badge(5), self.badge(90)])
        self.assertEqual(len(self.parts(uid)), 1)

    def test_unknown_card_is_stored_flagged_and_reprocessable(self):
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid) + [self.badge(30, card="CAFE01")])
        badge = self.env["workshop.event"].search([("event_type", "=", "badge_presented")])
        self.assertEqual(badge.state, "error")
        self.assertIn("Unknown card CAFE01", badge.error)
        self.assertFalse(self.parts(uid).member_id)
        self.env["workshop.member.card"].create({"partner_id": self.bob.id, "card_id": "cafe01"})
        badge.with_user(self.manager).action_reprocess()
        self.assertEqual((badge.state, badge.member_id), ("processed", self.bob))
        self.assertEqual(self.parts(uid).member_id, self.bob)

    def test_precedence_badge_claim_manual_machine(self):
        self.device.default_member_id = self.rental
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid))
        session = self.parts(uid)
        self.assertEqual(session.member_source, "machine")
        with self.assertRaises(AccessError):
            session.with_user(self.staff).write({"member_id": self.bob.id})
        session.with_user(self.manager).write({"member_id": self.bob.id})
        self.assertEqual((session.member_id, session.member_source), (self.bob, "manual"))
        self.assertFalse(session._set_member(self.rental, "machine"), "machine default below manual")
        session._set_member(self.alice, "claim")
        self.assertEqual((session.member_id, session.member_source), (self.alice, "claim"))
        with self.assertRaisesRegex(UserError, "does not override"):
            session.with_user(self.manager).write({"member_id": self.bob.id})
        self.ingest_and_fold([self.badge(60, card="DEADBEEF")])
        self.assertEqual((session.member_id, session.member_source), (self.bob, "badge"))
        self.assertFalse(session._set_member(self.alice, "claim"), "a claim does not override a badge")
        self.assertEqual(session.member_id, self.bob)

    def test_manual_assignment_is_tracked_in_the_chatter(self):
        uid = self.new_session()
        self.ingest_and_fold(self.lifecycle(uid))
        session = self.parts(uid).with_user(self.manager).with_context(tracking_disable=False)
        session.write({"member_id": self.alice.id})
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = session.sudo().message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "member_id")
        self.assertEqual(tracked.new_value_char, "Alice Maker")
        self.assertEqual(session.sudo().message_ids[:1].author_id, self.manager.partner_id)

    def test_arrival_order_does_not_matter(self):
        """Alice badges 30 s before the start, Bob at 90 s: any arrival order, the same two parts."""
        results = set()
        orders = list(itertools.permutations(range(6)))[::97] + [(5, 4, 3, 2, 1, 0)]  # badges first, stop first
        for order_index, order in enumerate(orders):
            uid = "0000%04d-0000-4000-8000-%012d" % (order_index, order_index)
            seq0 = 100 * (order_index + 1)
            ev = EventFactory(self.worker.worker_uid, self.events.at(1000 * order_index))
            self.events, saved = ev, self.events
            try:
                events = self.lifecycle(uid, seq0) + [self.badge(-30), self.badge(90, card="DEADBEEF")]
            finally:
                self.events = saved
            for index in order:
                self.ingest_and_fold([events[index]])
            parts = self.parts(uid)
            results.add(tuple(
                (p.member_id.name, p.member_source, (p.started_at - ev.t0).total_seconds(),
                 (p.ended_at - ev.t0).total_seconds(), round(p.working_s, 6), round(p.standby_s, 6),
                 p.billing_units, p.event_count) for p in parts))
        self.assertEqual(results, {(
            ("Alice Maker", "badge", 0.0, 90.0, 75.0, 15.0, 2, 2),
            ("Bob Builder", "badge", 90.0, 180.0, 75.0, 15.0, 1, 2),
        )})
