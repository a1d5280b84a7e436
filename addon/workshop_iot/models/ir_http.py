import re

import werkzeug.exceptions

from odoo import models
from odoo.exceptions import AccessDenied
from odoo.http import Response, request

from ..tools import jsonrpc
from ..tools import rpc_errors as E
from ..tools.exceptions import RpcException

# Routing flag set by controllers/workshop_iot.py on the ingest route.
ROUTING_FLAG = "workshop_iot_jsonrpc"
# auth= of the ingest route: _auth_method_workshop_iot_bearer below.
AUTH_METHOD = "workshop_iot_bearer"

_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _auth_method_workshop_iot_bearer(cls):
        """Odoo 18's ``auth='bearer'`` for machine clients, with verified keys remembered.

        Same keys (``res.users.apikeys``, global scope), same answers: no or a wrong key is 401,
        a key that does not match the session's user is refused. Unlike ``bearer`` it has no
        interactive fallback on a browser session: only workers call this route. The key check
        is ``res.users.apikeys._workshop_iot_check_key`` (PBKDF2 once per key and process).
        """
        match = _BEARER.match(request.httprequest.headers.get("Authorization") or "")
        if not match:
            raise werkzeug.exceptions.Unauthorized('User not authenticated, use the "Authorization" header')
        uid = request.env["res.users.apikeys"]._workshop_iot_check_key(match.group(1))
        if not uid:
            raise werkzeug.exceptions.Unauthorized("Invalid apikey")
        if request.env.uid and request.env.uid != uid:
            raise AccessDenied("Session user does not match the used apikey")
        request.update_env(user=uid)
        cls._auth_method_user()

    @classmethod
    def _authenticate(cls, endpoint):
        """On the ingest route, answer a failed bearer authentication with a JSON-RPC error object
        (HTTP 401) instead of werkzeug's HTML page: the worker parses JSON, and nothing else leaks."""
        try:
            return super()._authenticate(endpoint)
        except (werkzeug.exceptions.Unauthorized, AccessDenied):
            if not endpoint.routing.get(ROUTING_FLAG):
                raise
            body = jsonrpc.error_response(None, RpcException(E.UNAUTHENTICATED))
            response = Response(jsonrpc.dumps(body), status=401, content_type="application/json")
            response.headers["WWW-Authenticate"] = 'Bearer realm="workshop_iot"'
            raise werkzeug.exceptions.Unauthorized(response=response) from None
