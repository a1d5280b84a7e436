"""Role matrix: who may call what, enforced on the server (issue 12, "Done when").

Every public method that this module defines on any model is found by introspection (the registry
classes' MRO entries from ``odoo.addons.workshop_iot``), so a new ``action_*`` that is not in
``METHODS`` fails ``test_every_public_method_is_in_the_table``. Each one is called as
``/web/dataset/call_kw`` and ``/jsonrpc`` would (``check_method_name``, then ``api.call_kw`` on a
real record, as each role) and must work or raise ``AccessError`` exactly as the table says; calls
to the worker's HTTP API are mocked. ``CRUD_RIGHTS`` is the ORM's side (``check_access``).

Roles: nobody = internal user without a workshop group; user = Workshop IoT / User; manager =
Workshop IoT / Manager; admin = Settings + Manager; integration = worker group only (the API key
user of a worker).
"""

import inspect

from odoo import api
from odoo.exceptions import AccessError
from odoo.models import check_method_name
from odoo.tests import tagged

from .calibration_common import analysis_result
from .common import WorkshopIotCase, mock_worker
from .test_crons import HEALTH
from .test_rights import add_roles

NOBODY, USER, MANAGER, ADMIN, INTEGRATION = ROLES = ("nobody", "user", "manager", "admin", "integration")
NO_ONE = frozenset()
STAFF = frozenset({USER, MANAGER, ADMIN})
MANAGERS = frozenset({MANAGER, ADMIN})
ADMINS = frozenset({ADMIN})
# create/write/unlink overrides: their rights are the ORM's (CRUD_RIGHTS); the extra destination
# rule of worker/broker writes is tested in test_rights.TestSecretDestinations.
CRUD = "crud"

# (model, method) -> roles for which an RPC call works; every other role gets AccessError.
METHODS = {
    ("workshop.broker", "write"): CRUD,
    ("workshop.broker", "unlink"): CRUD,
    ("workshop.worker", "create"): CRUD,
    ("workshop.worker", "write"): CRUD,
    ("workshop.worker", "action_view_devices"): STAFF,
    ("workshop.worker", "action_push_config"): MANAGERS,  # calls the worker with the admin-only token
    ("workshop.worker", "action_check_health"): MANAGERS,  # same
    ("workshop.worker", "action_generate_token"): ADMINS,  # mints a secret
    ("workshop.worker", "action_generate_api_key"): ADMINS,  # same
    ("workshop.worker", "action_connect"): ADMINS,  # opens the wizard that mints both
    ("workshop.worker.connect", "action_create_worker"): ADMINS,  # mints a token and a key
    ("workshop.worker.connect", "action_wait"): ADMINS,
    ("workshop.worker.connect", "action_open_worker"): ADMINS,
    ("workshop.device", "create"): CRUD,
    ("workshop.device", "write"): CRUD,
    ("workshop.device", "unlink"): CRUD,
    ("workshop.device", "dashboard_machines"): STAFF,
    ("workshop.device", "action_view_sessions"): STAFF,
    ("workshop.device", "action_push_config"): MANAGERS,
    ("workshop.session", "write"): CRUD,  # plus: a member set by hand is a manager's (test_members)
    ("workshop.member.card", "create"): CRUD,
    ("workshop.member.card", "write"): CRUD,
    ("workshop.badge.reader", "create"): CRUD,
    ("workshop.badge.reader", "write"): CRUD,
    ("workshop.badge.reader", "unlink"): CRUD,
    ("res.partner", "action_view_workshop_sessions"): STAFF,
    ("workshop.session", "action_mark_billed"): MANAGERS,
    ("workshop.session", "action_reset_billing"): ADMINS,
    ("workshop.session", "action_mark_reviewed"): MANAGERS,  # writes the review as superuser
    ("workshop.session.review", "action_confirm"): MANAGERS,
    ("workshop.device", "claim_member_search"): STAFF,  # reads cards as superuser
    ("workshop.device", "action_claim_session"): STAFF,  # writes the member as superuser
    ("workshop.device", "action_claim_session_as_myself"): STAFF,
    ("workshop.event", "action_reprocess"): MANAGERS,  # folds with sudo
    ("workshop.discovered.meter", "action_ignore"): MANAGERS,
    ("workshop.discovered.meter", "action_restore"): MANAGERS,
    ("workshop.discovered.meter", "action_forget"): MANAGERS,
    ("workshop.discovered.meter.channel", "action_add_machine"): MANAGERS,
    # Dead letters (issue 17): the worker's admin-only token, so managers only.
    ("workshop.worker", "action_open_dead_letters"): MANAGERS,
    ("workshop.worker.deadletters", "action_retry"): MANAGERS,
    ("workshop.worker.deadletters", "action_retry_all"): MANAGERS,
    ("workshop.worker.deadletters", "action_purge"): MANAGERS,
    ("workshop.worker.deadletters", "action_purge_all"): MANAGERS,
    ("workshop.worker.deadletters", "action_refresh"): MANAGERS,
    ("workshop.review.digest", "action_open_sessions"): MANAGERS,
    # Calibration (issue 18): analysis.run needs the worker's admin-only token, so managers only.
    ("workshop.device", "action_calibrate"): MANAGERS,
    ("workshop.device.calibration", "action_run"): MANAGERS,
    ("workshop.device.calibration", "action_rerun"): MANAGERS,
    ("workshop.device.calibration", "action_apply"): MANAGERS,
    ("workshop.event", "init"): NO_ONE,
    # the alerts' unique index (issue 17); same: Odoo's dispatcher refuses it (check_method_name)
    ("mail.activity", "init"): NO_ONE,
}

# Methods called with arguments or on another record than ``records[model]``:
# (model, method) -> f(test case) -> (records, positional arguments after the ids).
CALLS = {
    ("workshop.device", "claim_member_search"): lambda case: (case.env["workshop.device"], ["Matrix"]),
    ("workshop.device", "action_claim_session"): lambda case: (case.device2, [case.matrix_member.id]),
    ("workshop.device", "action_claim_session_as_myself"): lambda case: (case.device2, []),
}

# model -> operation -> roles allowed by the access rights and record rules, on a real record.
# "workshop.session (billed)" is a billed session: frozen for managers (record rule).
CRUD_RIGHTS = {
    "workshop.broker": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    "workshop.worker": {"read": STAFF, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    "workshop.device": {"read": STAFF, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    "workshop.session": {"read": STAFF, "write": MANAGERS, "create": NO_ONE, "unlink": ADMINS},
    "workshop.session (billed)": {"read": STAFF, "write": ADMINS, "create": NO_ONE, "unlink": ADMINS},
    "workshop.event": {"read": MANAGERS, "write": NO_ONE, "create": NO_ONE, "unlink": ADMINS},
    "workshop.worker.secret": {"read": ADMINS, "write": NO_ONE, "create": ADMINS, "unlink": NO_ONE},
    "workshop.worker.connect": {"read": ADMINS, "write": ADMINS, "create": ADMINS, "unlink": NO_ONE},
    "workshop.session.review": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": NO_ONE},
    # Created only by discovery.report (sudo after the worker key check); managers act on them.
    "workshop.discovered.meter": {"read": MANAGERS, "write": MANAGERS, "create": NO_ONE, "unlink": MANAGERS},
    "workshop.discovered.meter.channel": {"read": MANAGERS, "write": NO_ONE, "create": NO_ONE,
                                          "unlink": NO_ONE},
    # Card ids are for managers only (issue 16): workshop users cannot even read them.
    "workshop.member.card": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    "workshop.badge.reader": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    # Alerts (issue 17): areas are read with the machines; the digest carries the managers' alert.
    "workshop.area": {"read": STAFF, "write": MANAGERS, "create": MANAGERS, "unlink": MANAGERS},
    "workshop.review.digest": {"read": MANAGERS, "write": NO_ONE, "create": NO_ONE, "unlink": NO_ONE},
    "workshop.worker.deadletters": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": NO_ONE},
    "workshop.device.calibration": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS, "unlink": NO_ONE},
    "workshop.device.calibration.session": {"read": MANAGERS, "write": MANAGERS, "create": MANAGERS,
                                            "unlink": MANAGERS},
}

MODULE = "odoo.addons.workshop_iot"


def module_public_methods(registry):
    """{(model, method)} of every public method a class of this module defines, on any model."""
    found = set()
    for model_name in registry:
        if registry[model_name]._abstract:
            continue  # no records: nothing to call over RPC (its methods are listed on the real models)
        for klass in registry[model_name].mro():
            # Not startswith(MODULE): workshop_iot_account has its own rights tests.
            if klass.__module__ != MODULE and not klass.__module__.startswith(MODULE + "."):
                continue
            for name, value in vars(klass).items():
                method = inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod))
                if method and not name.startswith("_"):
                    found.add((model_name, name))
    return found


def worker_api(method, params):
    """The worker's HTTP API, healthy (``mock_worker`` handler)."""
    if method == "config.apply":
        return {"applied": True, "version": params["config"]["version"],
                "changes": {"added": [], "updated": [], "removed": [], "broker_changed": False}}
    if method == "deadletters.list":
        return {"items": [], "total": 0, "next_before_id": None}
    if method in ("deadletters.retry", "deadletters.purge"):
        return {"count": 1, "remaining": 0}
    if method == "analysis.run":
        return analysis_result(params)
    return HEALTH


@tagged("post_install", "-at_install")
class TestRoleMatrix(WorkshopIotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_roles(cls)

    def setUp(self):
        super().setUp()
        uid, billed_uid = self.new_session(), self.new_session()
        ev = self.events
        self.ingest_and_fold([
            ev.started(self.device, 1, uid), ev.stopped(self.device, 2, uid, 120, 120.0, 0.0),
            ev.started(self.device, 3, billed_uid, 130), ev.stopped(self.device, 4, billed_uid, 190, 60.0, 0.0),
        ])
        billed = self.session(billed_uid)
        billed.action_mark_billed()
        # The Lathe's last session ended by timeout: flagged (to review) and claimable.
        flagged_uid = self.new_session()
        self.ingest_and_fold([ev.started(self.device2, 1, flagged_uid),
                              ev.stopped(self.device2, 2, flagged_uid, 60, 60.0, 0.0, reason="timeout")])
        self.matrix_member = self.env["res.partner"].create({"name": "Matrix Member"})
        meter = self.env["workshop.discovered.meter"].sudo().create({
            "worker_id": self.worker.id, "family": "shelly_gen2", "device_key": "shellypro4pm-matrix",
            "parser_type": "shelly_gen2", "topic": "shellypro4pm-matrix",
            "channel_ids": [(0, 0, {"channel": 0, "component": "switch:0", "measures": "power"})],
        }).sudo(False)
        with mock_worker(worker_api):
            calibration = self.env["workshop.device.calibration"].create({"device_id": self.device.id})
            calibration._run_and_show()
        self.records = {
            "workshop.broker": self.broker, "workshop.worker": self.worker, "workshop.device": self.device,
            "workshop.session": self.session(uid), "workshop.session (billed)": billed,
            "workshop.event": self.env["workshop.event"].search([], limit=1),
            "workshop.worker.secret": self.env["workshop.worker.secret"],
            # A transient record is its creator's only: the administrator's, as in the wizard.
            "workshop.worker.connect": self.env["workshop.worker.connect"].with_user(self.admin).create(
                {"name": "Matrix bench"}),
            "workshop.discovered.meter": meter,
            "workshop.discovered.meter.channel": meter.channel_ids,
            "workshop.member.card": self.env["workshop.member.card"].create(
                {"partner_id": self.manager.partner_id.id, "card_id": "AB12"}),
            "workshop.badge.reader": self.env["workshop.badge.reader"].create(
                {"name": "Matrix reader", "reader_id": "rfid-matrix", "topic": "rfid_matrix",
                 "device_id": self.device.id}),
            "res.partner": self.manager.partner_id,
            "workshop.session.review": self.env["workshop.session.review"].create(
                {"session_ids": [(6, 0, self.session(flagged_uid).ids)], "note": "Matrix review"}),
            "workshop.area": self.env["workshop.area"].create({"name": "Hall A", "closing_time": 20.0}),
            # The flagged Lathe session above raised the digest (issue 17).
            "workshop.review.digest": self.env["workshop.review.digest"].search([], limit=1),
            # A dialog with one ticked row, as the manager leaves it before Retry / Purge.
            "workshop.worker.deadletters": self.env["workshop.worker.deadletters"].create({
                "worker_id": self.worker.id, "line_ids": [(0, 0, {"letter_id": 7, "selected": True})]}),
            # A Calibrate dialog as the manager sees it after the first analysis.
            "workshop.device.calibration": calibration,
            "workshop.device.calibration.session": calibration.current_session_ids[:1],
        }
        self.env.cr.postcommit.clear()

    def _result_of(self, what):
        """'works' or 'AccessError' for ``what()``, run in a savepoint that is rolled back."""
        savepoint = self.env.cr.savepoint()
        try:
            what()
            return "works"
        except AccessError:
            return "AccessError"
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all(flush=False)
            self.env.cr.postcommit.clear()

    def _rpc(self, model, method, user):
        """Call ``method`` as the RPC dispatchers do (odoo.service.model / web's call_kw)."""
        check_method_name(method)
        records, extra = CALLS[(model, method)](self) if (model, method) in CALLS else (self.records[model], [])
        records = records.with_user(user)
        func = getattr(type(records), method)
        args = [] if getattr(func, "_api", None) else [records.ids]
        return api.call_kw(records.browse(), method, args + extra, {})

    def test_every_public_method_is_in_the_table(self):
        found = module_public_methods(self.env.registry)
        self.assertFalse(found - set(METHODS), "public methods missing from METHODS: add a row (and a check)")
        self.assertFalse(set(METHODS) - found, "METHODS lists methods that no longer exist")
        models = {m for m, _name in found if m.startswith("workshop.")} | {"workshop.worker.secret"}
        self.assertFalse(models - set(CRUD_RIGHTS), "workshop models missing from CRUD_RIGHTS")

    def test_methods_per_role(self):
        with mock_worker(worker_api) as calls:
            for (model, method), allowed in sorted(METHODS.items()):
                if allowed == CRUD:
                    self.assertIn(model, CRUD_RIGHTS)
                    continue
                for role in ROLES:
                    expected = "works" if role in allowed else "AccessError"
                    before = len(calls)
                    with self.subTest(model=model, method=method, role=role):
                        self.assertEqual(self._result_of(lambda: self._rpc(model, method, self.roles[role])), expected)
                        if expected == "AccessError":
                            self.assertEqual(len(calls), before, "a refused call reached the worker")
        self.assertTrue(calls, "the mocked worker API was used by the allowed calls")

    def test_orm_rights_per_role(self):
        for model, operations in sorted(CRUD_RIGHTS.items()):
            for operation, allowed in sorted(operations.items()):
                for role in ROLES:
                    expected = "works" if role in allowed else "AccessError"
                    records = self.records[model].with_user(self.roles[role])
                    with self.subTest(model=model, operation=operation, role=role):
                        self.assertEqual(self._result_of(lambda: records.check_access(operation)), expected)
