"""Retention (issue 17): processed events older than the setting are purged in batches; events of
sessions not yet billed or waiting for review are kept whatever their age; "keep forever" keeps all."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import WorkshopIotCase


@tagged("post_install", "-at_install")
class TestRetention(WorkshopIotCase):
    def _session(self, device, seq, reason="power_off"):
        uid = self.new_session()
        ev = self.events
        self.ingest_and_fold(
            [ev.started(device, seq, uid), ev.stopped(device, seq + 1, uid, 120, 60.0, 0.0, reason=reason)],
        )
        return self.session(uid)

    def test_purges_old_processed_events_but_keeps_unbilled_and_flagged_sessions(self):
        billed = self._session(self.device, 1)
        billed.with_user(self.manager).action_mark_billed()
        unbilled = self._session(self.device2, 1)
        flagged = self._session(self.device, 10, reason="timeout")
        flagged.sudo().write({"billing_state": "billed"})  # billed, then flagged: still kept
        self.ingest_and_fold([self.events.online(self.device2, 20, 150)])
        loose = self.env["workshop.event"].search([("device_key", "=", "tasmota-lathe"), ("seq", "=", 20)])
        self.assertEqual(loose.state, "processed")
        Event = self.env["workshop.event"]
        self.env["ir.config_parameter"].sudo().set_param("workshop_iot.event_retention_days", "30")
        self.assertEqual(Event._purge_batch(now=fields.Datetime.now() + timedelta(days=29)), 0, "not old enough")
        self.assertEqual(Event._purge_batch(now=fields.Datetime.now() + timedelta(days=31), limit=1), 1, "in batches")
        self.assertEqual(Event._purge_batch(now=fields.Datetime.now() + timedelta(days=31)), 2)
        self.assertFalse(billed.event_ids)
        self.assertFalse(loose.exists())
        self.assertEqual(len(unbilled.event_ids), 2, "a session not yet billed keeps its events")
        self.assertEqual(len(flagged.event_ids), 2, "a session waiting for review keeps its events")
        self.env["ir.config_parameter"].sudo().set_param("workshop_iot.event_keep_forever", "True")
        unbilled.with_user(self.manager).action_mark_billed()
        self.assertEqual(Event._purge_batch(now=fields.Datetime.now() + timedelta(days=3000)), 0, "kept forever")
