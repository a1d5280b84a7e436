import uuid

from odoo import SUPERUSER_ID, api, fields
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .common import EventFactory, race_after_commit


@tagged("post_install", "-at_install")
class TestIngestConcurrency(TransactionCase):
    """Two real transactions insert the same event at once (committed rows, removed at the end).

    The second waits on the unique index. Once the first commits, PostgreSQL raises a serialization
    failure in the second (Odoo runs REPEATABLE READ) — one of the errors Odoo retries a request
    for — and the retried transaction reports the event as a duplicate. No unique violation, no 500.
    """

    def test_same_event_from_two_transactions(self):
        event = EventFactory("wk-race", fields.Datetime.now()).online("race-device", 1, 0)
        event["event_uid"] = str(uuid.uuid4())
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            first = env1["workshop.event"]._insert_events(env1["workshop.worker"], {}, [event])
            self.assertIn(event["event_uid"], first)
            outcome = race_after_commit(
                self, cr1, lambda: env2["workshop.event"]._insert_events(env2["workshop.worker"], {}, [event]))
            if "error" in outcome:
                self.assertIsInstance(outcome["error"], PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
                cr2.rollback()  # what service.model.retrying does before calling again
                env2.invalidate_all()
                outcome["result"] = env2["workshop.event"]._insert_events(env2["workshop.worker"], {}, [event])
            self.assertEqual(outcome["result"], set(), "the racing insert ends as a duplicate")
            cr2.rollback()
        finally:
            cr1.rollback()
            cr1.execute(SQL("DELETE FROM workshop_event WHERE event_uid = %s", event["event_uid"]))
            cr1.commit()
            cr1.close()
            cr2.close()
