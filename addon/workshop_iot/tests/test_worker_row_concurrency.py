from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .common import mock_worker
from .test_crons import HEALTH


@tagged("post_install", "-at_install")
class TestWorkerRowConcurrency(TransactionCase):
    """The worker row has two writers: the worker's own calls (``_touch`` from events.ingest and
    worker.status) and the health-check cron. Real transactions on committed rows (removed at the
    end): the second writer skips instead of failing, waiting, or making Odoo retry a request."""

    def setUp(self):
        super().setUp()
        self.crs = []
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            workers = env["workshop.worker"].create([
                {"name": "Row race %s" % uid, "worker_uid": uid, "url": "http://%s.test:8787" % uid, "token": "t" * 32}
                for uid in ("wk-row-a", "wk-row-b")
            ])
            self.worker_ids = workers.ids
        self.addCleanup(self._remove_workers)

    def _remove_workers(self):
        for cr in self.crs:
            cr.rollback()
            cr.close()
        with self.registry.cursor() as cr:
            # Through the ORM: the health answers raised committed alerts (activities, chatter
            # messages) on these workers, which must go with them.
            api.Environment(cr, SUPERUSER_ID, {})["workshop.worker"].browse(self.worker_ids).unlink()

    def _env(self):
        """An environment on a new cursor. A statement that would wait for a lock fails within 5 s
        (QueryCanceled, which no code under test catches) instead of hanging the test."""
        cr = self.registry.cursor()
        self.crs.append(cr)
        cr.execute("SET LOCAL statement_timeout = 5000")
        return api.Environment(cr, SUPERUSER_ID, {})

    def _stored(self, worker_id, field):
        """``field`` as committed, read by a third transaction."""
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT %s FROM workshop_worker WHERE id = %s", SQL.identifier(field), worker_id))
            return cr.fetchone()[0]

    def test_health_cron_skips_a_worker_whose_row_is_being_written_and_checks_the_others(self):
        request, cron = self._env(), self._env()
        id_a, id_b = self.worker_ids
        # A call of worker A is writing its row (not committed yet).
        request["workshop.worker"].browse(id_a).write({"last_seen_at": fields.Datetime.now()})
        request.flush_all()
        with mock_worker(lambda method, params: HEALTH) as calls:
            skipped = cron["workshop.worker"]._cron_check_health()
        cron.cr.commit()
        self.assertGreaterEqual(len(calls), 2, "every worker was asked")
        self.assertEqual(skipped.ids, [id_a])
        self.assertEqual(self._stored(id_b, "outbox_depth"), 17, "the other worker's health is stored")
        self.assertFalse(self._stored(id_a, "outbox_depth"), "the busy row is left to its writer")
        # The call of worker A goes on and commits its own report.
        request.cr.commit()
        self.assertTrue(self._stored(id_a, "last_seen_at"))

    def test_touch_skips_when_the_cron_wrote_the_row_after_the_call_began(self):
        request, cron = self._env(), self._env()
        worker = request["workshop.worker"].browse(self.worker_ids[0])
        self.assertFalse(worker.last_seen_at)  # the call's snapshot is taken
        cron["workshop.worker"].browse(self.worker_ids[0]).write({"outbox_depth": 9, "status": "online"})
        cron.cr.commit()
        self.assertIs(worker._touch(fields.Datetime.now(), outbox_depth=3), False)
        # The call goes on in the same transaction and commits; the cron's write stands.
        self.assertEqual(request["workshop.worker"].search_count([("id", "in", self.worker_ids)]), 2)
        request.cr.commit()
        self.assertEqual(self._stored(self.worker_ids[0], "outbox_depth"), 9)

    def test_touch_skips_at_once_while_the_cron_holds_the_row(self):
        request, cron = self._env(), self._env()
        cron["workshop.worker"].browse(self.worker_ids[0]).write({"health_checked_at": fields.Datetime.now()})
        cron.flush_all()
        worker = request["workshop.worker"].browse(self.worker_ids[0])
        self.assertIs(worker._touch(fields.Datetime.now()), False)
        worker.invalidate_recordset()
        self.assertFalse(worker.last_seen_at)

    def test_touch_writes_when_nobody_else_does(self):
        request = self._env()
        worker = request["workshop.worker"].browse(self.worker_ids[0])
        now = fields.Datetime.now()
        self.assertIs(worker._touch(now, outbox_depth=4), True)
        self.assertIsNone(worker._touch(now, outbox_depth=4), "nothing changed within 10 s")
        request.cr.commit()
        self.assertEqual(self._stored(self.worker_ids[0], "last_seen_at"), now)
        self.assertEqual(self._stored(self.worker_ids[0], "outbox_depth"), 4)
