"""Module hooks: what uninstalling must undo beyond Odoo's own data removal."""

import logging

_logger = logging.getLogger(__name__)

WORKER_GROUP = "workshop_iot.workshop_iot_group_worker"


def uninstall_hook(env):
    """Archive the integration users and revoke their API keys.

    Odoo removes the worker group, but a user and its keys outlive the module, and an API key is
    valid for Odoo's own ``/jsonrpc`` and ``/json/2`` too: the worker's key would keep
    authenticating. Integration users are the members of the worker group that hold no other
    group (what *Generate Odoo API key* creates). A member with other groups is a person or
    another integration: it stays as it is, and is logged for the administrator to review.
    """
    group = env.ref(WORKER_GROUP, raise_if_not_found=False)
    if not group:
        return
    members = env["res.users"].with_context(active_test=False).search([("groups_id", "in", group.ids)])
    integration = members.filtered(lambda user: user.groups_id == group)
    kept = members - integration
    keys = integration.sudo().api_key_ids
    _logger.info("workshop_iot uninstall: revoking %s API key(s) and archiving integration users %s",
                 len(keys), integration.mapped("login"))
    keys._remove()
    integration.filtered("active").write({"active": False})
    if kept:
        _logger.info("workshop_iot uninstall: users %s were in the worker group with other groups; "
                     "left active with their API keys", kept.mapped("login"))
