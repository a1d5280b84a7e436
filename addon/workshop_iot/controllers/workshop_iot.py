"""``POST /workshop_iot/rpc``: the JSON-RPC 2.0 endpoint workers call with their Odoo API key."""

import logging
import os
import uuid

from odoo import http
from odoo.http import Response, request

from ..models.ir_http import AUTH_METHOD, ROUTING_FLAG, WORKER_GROUP
from ..tools import jsonrpc
from ..tools import rpc_errors as E
from ..tools import rpc_timings
from ..tools.exceptions import RpcException

_logger = logging.getLogger(__name__)

MAX_BATCH_CALLS = 50
_READ_CHUNK = 64 * 1024


def _max_body_bytes():
    # A full events.ingest batch (1,000 events of < 1 kB) fits with room to spare.
    raw = os.environ.get("WORKSHOP_IOT_RPC_MAX_BODY_BYTES")
    if raw is None:
        return 4 * 1024 * 1024
    try:
        return max(int(raw), 1024)
    except ValueError:
        _logger.warning("WORKSHOP_IOT_RPC_MAX_BODY_BYTES=%r is not an integer; using 4 MiB", raw)
        return 4 * 1024 * 1024


MAX_BODY_BYTES = _max_body_bytes()

# method -> (params contract of shared/, handler on workshop.worker)
METHODS = {
    "worker.hello": ("worker_hello_params", "_rpc_hello"),
    "events.ingest": ("events_ingest_params", "_rpc_ingest"),
    "worker.status": ("worker_status_params", "_rpc_status"),
    "discovery.report": ("discovery_report_params", "_rpc_discovery_report"),
}


def _validators():
    from ..schema import generated

    return generated


class WorkshopIotController(http.Controller):
    @http.route(
        "/workshop_iot/rpc", type="http", auth=AUTH_METHOD, methods=["POST"], csrf=False,
        save_session=False, **{ROUTING_FLAG: True},
    )
    def rpc(self):
        """JSON-RPC 2.0 (single or batch). HTTP status: 200 for every JSON-RPC answer, 204 when a
        batch held only notifications, 401 bad key and 403 not a worker user (both answered by
        ``ir.http`` before the body is read), 413 body too large, 415 a form body."""
        if not request.env.user.has_group(WORKER_GROUP):  # ir.http checked it; never read a body without
            return self._respond(jsonrpc.error_response(None, RpcException(E.FORBIDDEN)), 403)
        try:
            body = self._read_body()
            if body is None:
                return self._respond(jsonrpc.error_response(
                    None, RpcException(E.PAYLOAD_TOO_LARGE, limit=MAX_BODY_BYTES)), 413)
            doc = jsonrpc.parse_body(body)
        except RpcException as exc:
            return self._respond(jsonrpc.error_response(None, exc))
        rpc_timings.lap(request, "body")
        if isinstance(doc, list):
            if not doc:
                return self._respond(jsonrpc.error_response(
                    None, RpcException(E.INVALID_REQUEST, reason="empty batch")))
            if len(doc) > MAX_BATCH_CALLS:
                return self._respond(jsonrpc.error_response(
                    None, RpcException(E.BATCH_TOO_LARGE, limit=MAX_BATCH_CALLS)))
            responses = [r for r in (self._handle_call(call) for call in doc) if r is not None]
            return self._timed(self._respond(responses) if responses else Response(status=204))
        response = self._handle_call(doc)
        return self._timed(self._respond(response) if response is not None else Response(status=204))

    # ------------------------------------------------------------------ helpers
    def _read_body(self):
        """The request body, or None when it exceeds MAX_BODY_BYTES: refused on Content-Length
        before reading, else read from the WSGI input stream, at most MAX_BODY_BYTES + 1 bytes
        (a chunked body has no Content-Length; ``get_data()`` would read all of it first)."""
        httprequest = request.httprequest
        if httprequest.content_length is not None and httprequest.content_length > MAX_BODY_BYTES:
            return None
        # Odoo's HTTPRequest proxies neither werkzeug's ``stream`` nor the ``wsgi.*`` environ keys;
        # the werkzeug request it wraps is the one way to read a bounded prefix of the body.
        stream = httprequest._HTTPRequest__wrapped.stream
        limit, parts, size = MAX_BODY_BYTES + 1, [], 0
        while size < limit:
            try:
                part = stream.read(min(_READ_CHUNK, limit - size))
            except (OSError, ValueError) as exc:  # werkzeug's DechunkedInput: "Invalid chunk header"
                raise RpcException(E.PARSE_ERROR, data={"reason": "malformed chunked body"}) from exc
            if not part:
                break
            parts.append(part)
            size += len(part)
        return None if size > MAX_BODY_BYTES else b"".join(parts)

    def _timed(self, response):
        rpc_timings.until_committed(request, response)  # only with WORKSHOP_IOT_RPC_TIMINGS=1 (benches)
        return response

    def _respond(self, doc, status=200):
        return Response(jsonrpc.dumps(doc), status=status, content_type="application/json")

    def _handle_call(self, call):
        """One call -> its response object, or None for a notification (no ``id``)."""
        try:
            has_id, call_id, method, params = jsonrpc.check_call(call)
        except RpcException as exc:
            return jsonrpc.error_response(jsonrpc.safe_id(call), exc)
        try:
            result = self._dispatch(method, params)
            response = jsonrpc.result_response(call_id, result)
        except RpcException as exc:
            response = jsonrpc.error_response(call_id, exc)
        return response if has_id else None

    def _dispatch(self, method, params):
        if method not in METHODS:
            raise RpcException(E.METHOD_NOT_FOUND, method=method[:64])
        contract, handler = METHODS[method]
        errors = _validators().validate(contract, params)
        if errors:
            raise RpcException(E.INVALID_PARAMS, data={"errors": errors[:100]}, method=method)
        rpc_timings.note_call(request, method, params)
        rpc_timings.lap(request, "validate")
        try:
            # One savepoint per call: a failing call of a batch leaves the others' work intact.
            with request.env.cr.savepoint():
                # sudo: the caller is a verified member of the worker group (checked in rpc()); the
                # handlers touch only this worker's records and the event log. It keeps the uid,
                # so rows record the integration user as author.
                result = getattr(request.env["workshop.worker"].sudo(), handler)(params)
                rpc_timings.lap(request, "handler")
            rpc_timings.lap(request, "savepoint")  # its release flushes: precommit hooks run here
            return result
        except RpcException:
            raise
        except Exception as exc:
            from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                raise  # Odoo retries the whole request (service.model.retrying)
            ref = uuid.uuid4().hex[:12]
            # Full traceback in the server log only; the wire gets a reference to grep for.
            _logger.exception("workshop_iot RPC %s failed (reference %s)", method, ref)
            raise RpcException(E.INTERNAL_ERROR, ref=ref) from None
