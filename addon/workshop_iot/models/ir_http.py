import logging
import re

import werkzeug.exceptions

from odoo import models
from odoo.exceptions import AccessDenied
from odoo.http import Response, request

from ..tools import jsonrpc
from ..tools import rpc_timings
from ..tools import rpc_errors as E
from ..tools.exceptions import RpcException
from ..tools.login_log import refused_logins

_logger = logging.getLogger(__name__)

# Routing flag set by controllers/workshop_iot.py on the ingest route.
ROUTING_FLAG = "workshop_iot_jsonrpc"
# auth= of the ingest route: _auth_method_workshop_iot_bearer below.
AUTH_METHOD = "workshop_iot_bearer"
WORKER_GROUP = "workshop_iot.workshop_iot_group_worker"
# Bodies werkzeug parses by itself (request.params) before any controller code runs.
_FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)
_UNSAFE = re.compile(r"[^0-9A-Za-z.:_-]")


def _json_error(error, status, **kwargs):
    body = jsonrpc.error_response(None, RpcException(error, **kwargs))
    return Response(jsonrpc.dumps(body), status=status, content_type="application/json")


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _auth_method_workshop_iot_bearer(cls):
        """Odoo 18's ``auth='bearer'`` for machine clients, with verified keys remembered, and
        only for members of the worker integration group.

        Same keys (``res.users.apikeys``, global scope), same answers: no or a wrong key is 401,
        a key that does not match the session's user is refused. Unlike ``bearer`` it has no
        interactive fallback on a browser session: only workers call this route. The key check
        is ``res.users.apikeys._workshop_iot_check_key`` (PBKDF2 once per key and process). The
        group is checked here, before Odoo or the controller reads a byte of the body (403).
        """
        rpc_timings.start(request)
        match = _BEARER.match(request.httprequest.headers.get("Authorization") or "")
        if not match:
            raise werkzeug.exceptions.Unauthorized("no bearer API key")
        uid = request.env["res.users.apikeys"]._workshop_iot_check_key(match.group(1))
        if not uid:
            raise werkzeug.exceptions.Unauthorized("invalid API key")
        if request.env.uid and request.env.uid != uid:
            raise AccessDenied("session user does not match the API key")
        request.update_env(user=uid)
        cls._auth_method_user()
        if not request.env.user.has_group(WORKER_GROUP):
            raise werkzeug.exceptions.Forbidden("user id %s is not in the worker integration group" % uid)
        rpc_timings.lap(request, "auth")

    @classmethod
    def _authenticate(cls, endpoint):
        """On the ingest route, answer a failed authentication with a JSON-RPC error object (401,
        or 403 for a user outside the worker group) instead of werkzeug's HTML page: the worker
        parses JSON, and nothing else leaks. Each refusal is logged (``_log_refusal``)."""
        try:
            return super()._authenticate(endpoint)
        except (werkzeug.exceptions.Unauthorized, werkzeug.exceptions.Forbidden, AccessDenied) as exc:
            if not endpoint.routing.get(ROUTING_FLAG):
                raise
            if isinstance(exc, werkzeug.exceptions.Forbidden):
                cls._log_refusal(exc.description)
                raise werkzeug.exceptions.Forbidden(response=_json_error(E.FORBIDDEN, 403)) from None
            cls._log_refusal(exc.description if isinstance(exc, werkzeug.exceptions.HTTPException) else str(exc))
            response = _json_error(E.UNAUTHENTICATED, 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="workshop_iot"'
            raise werkzeug.exceptions.Unauthorized(response=response) from None

    @classmethod
    def _log_refusal(cls, reason):
        """WARNING for a refused login, at most one line per remote address and minute (the lines
        in between are counted in the next one). ``reason`` never holds the key."""
        # remote_addr may come from X-Forwarded-For (proxy mode): keep it one short, plain token.
        address = _UNSAFE.sub("?", request.httprequest.remote_addr or "unknown")[:64]
        log_now, suppressed = refused_logins.admit(address)
        if not log_now:
            return
        more = " (%d more refused from this address since its last line)" % suppressed if suppressed else ""
        _logger.warning("workshop_iot: refused ingest request from %s: %s%s", address, reason, more)

    @classmethod
    def _pre_dispatch(cls, rule, args):
        # Odoo's http dispatcher would parse a form body into request.params, all of it, before
        # the controller can cap what it reads: refuse form bodies on the ingest route first.
        if rule.endpoint.routing.get(ROUTING_FLAG) and request.httprequest.mimetype in _FORM_MIMETYPES:
            response = _json_error(E.UNSUPPORTED_MEDIA_TYPE, 415, mimetype=request.httprequest.mimetype)
            raise werkzeug.exceptions.UnsupportedMediaType(response=response)
        return super()._pre_dispatch(rule, args)
