"""JSON-RPC 2.0 envelope handling for ``POST /workshop_iot/rpc`` (no ORM here).

The route is ``type='http'`` on purpose: Odoo's ``type='json'`` routes speak Odoo's own JSON-RPC
dialect (no batches, Odoo error objects). Here we parse the body ourselves so that batches,
notifications and the reserved error codes follow the specification.
"""

import json
import math

from . import rpc_errors as E
from .exceptions import RpcException

JSONRPC = "2.0"


def _non_finite(token):
    raise ValueError("%s is not JSON" % token)


def _finite_float(token):
    value = float(token)
    if not math.isfinite(value):  # 1e400 overflows to inf
        raise ValueError("%s is out of the double range" % token)
    return value


def parse_body(raw):
    """Bytes -> the decoded JSON document, or ``RpcException(PARSE_ERROR)``.

    Stricter than ``json.loads``: Python accepts ``NaN``/``Infinity`` literals and turns ``1e400``
    into ``inf``, none of which is JSON (RFC 8259) nor can be echoed back as JSON. Nesting deeper
    than the interpreter's recursion limit is a parse error too, not an HTML 500.
    """
    try:
        return json.loads(raw, parse_constant=_non_finite, parse_float=_finite_float)
    except RecursionError as exc:
        raise RpcException(E.PARSE_ERROR, data={"reason": "nested too deeply"}) from exc
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise RpcException(E.PARSE_ERROR) from exc


def check_call(call):
    """Validate one request object; return ``(has_id, id, method, params)``.

    Raises ``RpcException(INVALID_REQUEST)``; the id is echoed when it was itself valid.
    """
    if not isinstance(call, dict):
        raise RpcException(E.INVALID_REQUEST, reason="a request must be an object")
    has_id = "id" in call
    call_id = call.get("id")
    if not _valid_id(call_id):
        raise RpcException(E.INVALID_REQUEST, reason="id must be a string, a number or null")
    if call.get("jsonrpc") != JSONRPC:
        raise RpcException(E.INVALID_REQUEST, reason='jsonrpc must be "2.0"')
    method = call.get("method")
    if not isinstance(method, str) or not method:
        raise RpcException(E.INVALID_REQUEST, reason="method must be a string")
    params = call.get("params", {})
    if not isinstance(params, (dict, list)):
        raise RpcException(E.INVALID_REQUEST, reason="params must be an object or an array")
    extra = set(call) - {"jsonrpc", "method", "params", "id"}
    if extra:
        raise RpcException(
            E.INVALID_REQUEST, reason="unknown member(s) %s" % ", ".join(sorted(extra))
        )
    return has_id, call_id, method, params


def _valid_id(value):
    if isinstance(value, float):
        return math.isfinite(value)  # parse_body already refuses the others; never echo one
    return value is None or (isinstance(value, (str, int)) and not isinstance(value, bool))


def safe_id(call):
    """The id to echo in an error response: the request's id when it is a valid one, else null."""
    if isinstance(call, dict) and _valid_id(call.get("id")):
        return call.get("id")
    return None


def result_response(call_id, result):
    return {"jsonrpc": JSONRPC, "id": call_id, "result": result}


def error_response(call_id, exc):
    """Response object for an ``RpcException``; ``exc.data`` lands in ``error.data``."""
    return {"jsonrpc": JSONRPC, "id": call_id, "error": E.error_object(exc.error, exc.message, exc.data)}


def dumps(doc):
    """Compact JSON bytes for the response body."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
