"""Error catalogue of the ingest endpoint ``POST /workshop_iot/rpc``.

Every error the endpoint can put on the wire is one entry here: a stable ``code`` (equal to the
attribute name), a message template, a JSON-RPC error code and the HTTP status of the response.
``tests/test_rpc_errors.py`` asserts that names equal codes and that every code is documented in
``readme/USAGE.md``; add the row there when you add an entry.

Two families:
- *call errors* end one JSON-RPC call with an ``error`` object (``jsonrpc_code`` set);
- *item errors* reject one event of an ``events.ingest`` batch (``jsonrpc_code`` is None): they are
  reported in that item's ``code``/``message`` and never fail the batch.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RpcError:
    """One catalogue entry; ``format()`` renders the message with keyword arguments."""

    code: str
    template: str
    jsonrpc_code: int | None
    http_status: int = 200

    def format(self, **kwargs):
        return self.template % kwargs if kwargs else self.template


# --- JSON-RPC 2.0 reserved codes --------------------------------------------------------------
PARSE_ERROR = RpcError("PARSE_ERROR", "Request body is not valid JSON", -32700)
INVALID_REQUEST = RpcError("INVALID_REQUEST", "Invalid JSON-RPC 2.0 request: %(reason)s", -32600)
METHOD_NOT_FOUND = RpcError("METHOD_NOT_FOUND", "Unknown method '%(method)s'", -32601)
INVALID_PARAMS = RpcError("INVALID_PARAMS", "Invalid params for '%(method)s'", -32602)
INTERNAL_ERROR = RpcError("INTERNAL_ERROR", "Internal error (reference %(ref)s)", -32603)

# --- transport / access (application range -32000..-32099) -----------------------------------
UNAUTHENTICATED = RpcError(
    "UNAUTHENTICATED", "Missing or invalid API key (Authorization: Bearer <key>)", -32001, 401
)
FORBIDDEN = RpcError(
    "FORBIDDEN", "User is not in the group 'Workshop IoT / Worker integration'", -32003, 403
)
PAYLOAD_TOO_LARGE = RpcError(
    "PAYLOAD_TOO_LARGE", "Request body exceeds %(limit)s bytes", -32013, 413
)
UNSUPPORTED_MEDIA_TYPE = RpcError(
    "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json, not %(mimetype)s", -32015, 415
)
BATCH_TOO_LARGE = RpcError(
    "BATCH_TOO_LARGE", "A batch holds at most %(limit)s calls", -32014
)
WORKER_FORBIDDEN = RpcError(
    "WORKER_FORBIDDEN",
    "Worker '%(worker_uid)s' is not bound to this API key's user, or is archived",
    -32005,
)
WORKER_REGISTRATION_REFUSED = RpcError(
    "WORKER_REGISTRATION_REFUSED",
    "Worker '%(worker_uid)s' is unknown and this API key's user already has a worker; an administrator "
    "creates further workers and binds them ('Generate Odoo API key' on the worker form)",
    -32006,
)

# --- per-event item errors of events.ingest ---------------------------------------------------
EVENT_INVALID = RpcError("EVENT_INVALID", "Event does not match the event schema", None)
EVENT_WORKER_MISMATCH = RpcError(
    "EVENT_WORKER_MISMATCH", "Event worker_uid differs from the batch worker_uid", None
)
DEVICE_FORBIDDEN = RpcError(
    "DEVICE_FORBIDDEN", "Machine '%(device_id)s' is assigned to another worker", None
)
EVENT_TIME_OUT_OF_RANGE = RpcError(
    "EVENT_TIME_OUT_OF_RANGE", "A time or duration of the event is outside the accepted window", None
)

CATALOGUE = {
    name: value for name, value in list(globals().items()) if isinstance(value, RpcError)
}


def error_object(error, message, data=None):
    """Return the JSON-RPC ``error`` member for a call error; ``data.code`` is the catalogue code."""
    obj = {"code": error.jsonrpc_code, "message": message, "data": {"code": error.code}}
    if data:
        obj["data"].update(data)
    return obj
