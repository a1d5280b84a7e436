import werkzeug.exceptions

from odoo import models
from odoo.exceptions import AccessDenied
from odoo.http import Response

from ..tools import jsonrpc
from ..tools import rpc_errors as E
from ..tools.exceptions import RpcException

# Routing flag set by controllers/workshop_iot.py on the ingest route.
ROUTING_FLAG = "workshop_iot_jsonrpc"


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

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
