"""The worker's dead letters (events Odoo refused, kept in its outbox) from the worker form.

"Dead letters" calls the worker's ``deadletters.list`` and shows the newest page in a dialog; Retry
and Purge call ``deadletters.retry`` / ``deadletters.purge`` for the selected rows or all of them.
Managers only, checked here (the button's groups only hide it): the calls use the admin-only token.
An unreachable or refusing worker is a ``UserError`` with ``worker_client``'s readable message.
"""

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import rights, worker_client
from ..tools.exceptions import WorkerCallError
from ..tools.timeutil import parse_wire_ts
from .workshop_worker import _validators

PAGE = 200


class WorkshopWorker(models.Model):
    _inherit = "workshop.worker"

    def action_open_dead_letters(self):
        """Button "Dead letters": list them in a dialog."""
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Handling a worker's dead letters"))
        wizard = self.env["workshop.worker.deadletters"].create({"worker_id": self.id})
        wizard._load()
        return wizard._reopen()

    def _call_dead_letters(self, method, params, validate):
        """Call ``method`` on this worker; the checked result, or a ``UserError`` saying what went wrong."""
        self.ensure_one()
        worker = self.sudo()
        try:
            if not worker.url:
                raise UserError(
                    self.env._("Worker %s has no URL: Odoo cannot ask it for its dead letters.", worker.name),
                )
            result = worker_client.call(worker.url, worker.token, method, params)
        except WorkerCallError as exc:
            raise UserError(exc.message) from exc
        errors = validate(result)
        if errors:
            raise UserError(self.env._("Unexpected %(method)s answer at %(path)s: %(message)s",
                                       method=method, path=errors[0]["path"], message=errors[0]["message"]))
        return result


class WorkshopWorkerDeadLetters(models.TransientModel):
    _name = "workshop.worker.deadletters"
    _description = "Dead letters of a worker"

    worker_id = fields.Many2one("workshop.worker", required=True, readonly=True, ondelete="cascade")
    total = fields.Integer(string="Dead letters", readonly=True)
    line_ids = fields.One2many("workshop.worker.deadletter", "wizard_id", string="Newest dead letters")

    def _load(self):
        self.ensure_one()
        result = self.worker_id._call_dead_letters(
            "deadletters.list", {"limit": PAGE}, _validators().validate_deadletters_list_result)
        self.line_ids.unlink()
        self.write({"total": result["total"], "line_ids": [fields.Command.create({
            "letter_id": item["id"], "event_uid": item["event_uid"], "device_key": item["device_id"],
            "event_type": item["type"], "code": item["code"], "message": item["message"],
            "rejected_at": parse_wire_ts(item["rejected_at"]),
        }) for item in result["items"]]})

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": self.env._("Dead letters of %s", self.worker_id.name)}

    def _change(self, method, all_rows):
        self.ensure_one()
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Handling a worker's dead letters"))
        if all_rows:
            params = {"all": True}
        else:
            ids = self.line_ids.filtered("selected").mapped("letter_id")
            if not ids:
                raise UserError(self.env._("Tick the dead letters to act on, or use the 'all' button."))
            params = {"ids": ids}
        self.worker_id._call_dead_letters(method, params, _validators().validate_deadletters_change_result)
        self._load()
        return self._reopen()

    def action_retry(self):
        # rights: _change -> workshop managers only (AccessError).
        return self._change("deadletters.retry", False)

    def action_retry_all(self):
        # rights: _change -> workshop managers only (AccessError).
        return self._change("deadletters.retry", True)

    def action_purge(self):
        # rights: _change -> workshop managers only (AccessError).
        return self._change("deadletters.purge", False)

    def action_purge_all(self):
        # rights: _change -> workshop managers only (AccessError).
        return self._change("deadletters.purge", True)

    def action_refresh(self):
        # rights: rights.require raises AccessError unless the caller is a workshop manager.
        rights.require(self.env, rights.MANAGER, self.env._("Handling a worker's dead letters"))
        self._load()
        return self._reopen()


class WorkshopWorkerDeadLetter(models.TransientModel):
    _name = "workshop.worker.deadletter"
    _description = "Dead letter of a worker"
    _order = "letter_id desc"

    wizard_id = fields.Many2one("workshop.worker.deadletters", required=True, ondelete="cascade")
    selected = fields.Boolean(string="Select")
    letter_id = fields.Integer(string="Id", readonly=True)
    event_uid = fields.Char(string="Event", readonly=True)
    device_key = fields.Char(string="Device ID", readonly=True)
    event_type = fields.Char(string="Type", readonly=True)
    code = fields.Char(string="Refusal", readonly=True)
    message = fields.Char(string="Message", readonly=True)
    rejected_at = fields.Datetime(string="Refused on", readonly=True)
