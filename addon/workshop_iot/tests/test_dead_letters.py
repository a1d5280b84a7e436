"""The worker's dead letters on its form (issue 17): listed from ``deadletters.list``, retried and
purged through ``deadletters.retry`` / ``deadletters.purge``, managers only, readable errors."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import WorkshopIotCase, mock_worker, unreachable

ITEM = {"id": 7, "event_uid": "0190a000-0000-7000-8000-000000000007", "device_id": "shelly-laser",
        "type": "session_started", "code": "DEVICE_UNKNOWN", "message": "No machine shelly-laser",
        "rejected_at": "2026-12-01T10:00:00.000Z"}


class FakeDeadLetters:
    """A worker's dead-letter table behind ``mock_worker``."""

    def __init__(self):
        self.rows = {7: ITEM, 8: dict(ITEM, id=8, event_uid=ITEM["event_uid"][:-1] + "8")}

    def __call__(self, method, params):
        if method == "deadletters.list":
            items = sorted(self.rows.values(), key=lambda r: -r["id"])
            return {"items": items, "total": len(items), "next_before_id": None}
        ids = list(self.rows) if params.get("all") else params["ids"]
        for key in ids:
            self.rows.pop(key)
        return {"count": len(ids), "remaining": len(self.rows)}


@tagged("post_install", "-at_install")
class TestDeadLetters(WorkshopIotCase):
    def test_list_retry_and_purge_from_the_worker_form(self):
        fake = FakeDeadLetters()
        with mock_worker(fake) as calls:
            action = self.worker.with_user(self.manager).action_open_dead_letters()
            wizard = self.env["workshop.worker.deadletters"].with_user(self.manager).browse(action["res_id"])
            self.assertEqual(wizard.total, 2)
            self.assertEqual(wizard.line_ids.mapped("letter_id"), [8, 7])
            self.assertEqual(wizard.line_ids[1].code, "DEVICE_UNKNOWN")
            wizard.line_ids.filtered(lambda line: line.letter_id == 7).selected = True
            wizard.action_retry()
            self.assertEqual(wizard.line_ids.mapped("letter_id"), [8])
            wizard.action_purge_all()
        self.assertEqual(wizard.total, 0)
        self.assertEqual([c[1] for c in calls], ["deadletters.list", "deadletters.retry", "deadletters.list",
                                                 "deadletters.purge", "deadletters.list"])
        self.assertEqual(calls[1][2], {"ids": [7]})
        self.assertEqual(calls[3][2], {"all": True})
        self.assertEqual(calls[0][3]["Authorization"], "Bearer " + "t" * 32)

    def test_nothing_selected_is_a_clear_error(self):
        with mock_worker(FakeDeadLetters()):
            action = self.worker.with_user(self.manager).action_open_dead_letters()
            wizard = self.env["workshop.worker.deadletters"].with_user(self.manager).browse(action["res_id"])
            with self.assertRaisesRegex(UserError, "Tick the dead letters"):
                wizard.action_purge()

    def test_managers_only_checked_on_the_server(self):
        with mock_worker(FakeDeadLetters()) as calls:
            with self.assertRaises(AccessError):
                self.worker.with_user(self.staff).action_open_dead_letters()
            action = self.worker.with_user(self.manager).action_open_dead_letters()
            wizard = self.env["workshop.worker.deadletters"].browse(action["res_id"])
            with self.assertRaises(AccessError):
                wizard.with_user(self.staff).action_purge_all()
        self.assertEqual([c[1] for c in calls], ["deadletters.list"])

    def test_unreachable_worker_is_a_readable_error(self):
        with mock_worker(unreachable), self.assertRaisesRegex(UserError, "connection refused.*is it running"):
            self.worker.with_user(self.manager).action_open_dead_letters()

    def test_unexpected_answer_names_the_field(self):
        with mock_worker(lambda method, params: {"items": [], "total": -1, "next_before_id": None}):
            with self.assertRaisesRegex(UserError, "Unexpected deadletters.list answer at"):
                self.worker.with_user(self.manager).action_open_dead_letters()
