"""Server-side rights of the addon's buttons and methods, in one place.

A button's ``groups=`` only hides it: every public method is callable over ``/web/dataset/call_kw``
and ``/jsonrpc`` by any logged-in user, so each one checks the caller itself (policy table:
``tests/test_role_matrix.py``; groups and what each may do: ``readme/CONFIGURE.md``).
"""

from odoo.exceptions import AccessError

SYSTEM = "base.group_system"
MANAGER = "workshop_iot.workshop_iot_group_manager"
USER = "workshop_iot.workshop_iot_group_user"
WORKER = "workshop_iot.workshop_iot_group_worker"


def require(env, group, what):
    """Raise ``AccessError`` unless the caller is in ``group``. Superuser mode (``sudo()``, crons,
    the worker RPC handlers) is the code's own decision and passes, as ``check_access`` does."""
    if env.su or env.user.has_group(group):
        return
    raise AccessError(env._(
        "%(what)s is reserved to %(group)s (you are %(user)s).",
        what=what, group=env.ref(group).sudo().full_name, user=env.user.name,
    ))


def reads_secrets(env):
    """True when the caller may read the admin-only secret fields (worker token, broker password,
    TLS key: all ``groups="base.group_system"``)."""
    return env.su or env.user.has_group(SYSTEM)
