"""JSON-RPC client for Odoo -> worker calls (``POST <worker_url>/rpc``, bearer worker token).

Every call is bounded: the design allows at most 10 s across the wire, and a cron or a post-commit
thread must never hang on a dead worker.

A failure raises a ``WorkerCallError`` whose ``message`` says, for the people reading the worker
form and the toasts, what happened and what to do; the technical detail (exception class and text,
HTTP status, JSON-RPC code) is kept apart in ``detail`` for the server log and a debug-only field.
"""

import logging
import os
import uuid

import requests

from .exceptions import WorkerRejected, WorkerUnreachable

_logger = logging.getLogger(__name__)


def _timeout_from_env():
    # Tunable like the bus's ODOO_NOTIFY_PAYLOAD_MAX_LENGTH: environment first, logged fallback.
    raw = os.environ.get("WORKSHOP_IOT_WORKER_TIMEOUT_S")
    if raw is None:
        return 10.0
    try:
        return min(max(float(raw), 0.5), 10.0)
    except ValueError:
        _logger.warning("WORKSHOP_IOT_WORKER_TIMEOUT_S=%r is not a number; using 10 s", raw)
        return 10.0


TIMEOUT_S = _timeout_from_env()


def call(url, token, method, params, timeout=None):
    """Call ``method`` on the worker at ``url`` and return its ``result``.

    Raises ``WorkerUnreachable`` (network, timeout, TLS, HTTP 5xx, garbage body) or ``WorkerRejected``
    (HTTP 4xx or a JSON-RPC error object, whose ``data`` is kept for field-level errors).
    """
    base = url.rstrip("/")
    endpoint = base + "/rpc"
    timeout = timeout or TIMEOUT_S
    body = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": method, "params": params}
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        resp = requests.post(endpoint, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise WorkerUnreachable(
            _transport_message(exc, base, timeout), detail="%s: %s" % (type(exc).__name__, _short(exc))
        ) from exc
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    status = resp.status_code
    error = doc.get("error") if isinstance(doc, dict) else None
    if status in (401, 403):
        # Checked before a JSON-RPC error body: the cause is the token, whatever the body says.
        raise WorkerRejected(
            "The worker at %s refused Odoo's token (HTTP %s) — set the same token on both sides: the "
            "worker setting http.token and 'Set token' on this worker." % (base, status),
            detail="HTTP %s from %s%s" % (status, endpoint, _error_suffix(error)),
        )
    if isinstance(error, dict):
        raise WorkerRejected(
            "The worker refused %s: %s (code %s)." % (method, _short(error.get("message")), error.get("code")),
            data=error.get("data"),
            detail="JSON-RPC error %s from %s (HTTP %s): %s"
            % (error.get("code"), endpoint, status, _short(error.get("message"))),
        )
    if status >= 500:
        raise WorkerUnreachable(
            "The worker at %s failed with HTTP %s — see the worker's log; Odoo tries again later." % (base, status),
            detail="HTTP %s from %s" % (status, endpoint),
        )
    if status >= 400:
        raise WorkerRejected(
            "The worker at %s answered HTTP %s — check the worker URL: the worker's base address, "
            "Odoo adds /rpc." % (base, status),
            detail="HTTP %s from %s" % (status, endpoint),
        )
    if not isinstance(doc, dict) or "result" not in doc:
        raise WorkerUnreachable(
            "The answer from %s is not a worker's answer (no JSON-RPC result) — check that the URL "
            "points to the worker, not another service." % base,
            detail="HTTP %s from %s: body is %s" % (
                status,
                endpoint,
                "not JSON" if doc is None else "JSON without result",
            ),
        )
    return doc["result"]


def _transport_message(exc, base, timeout):
    """What a network failure means for the admin (the subclasses first: SSLError and ConnectTimeout
    are ConnectionErrors too)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return ("TLS with the worker at %s failed — check the URL's scheme (http or https) and the "
                "worker's certificate." % base)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ("The worker at %s did not accept the connection within %g s — is the host up and the "
                "port open in its firewall?" % (base, timeout))
    if isinstance(exc, requests.exceptions.Timeout):
        return ("The worker at %s did not answer within %g s — it may be busy or stuck; see its log. "
                "Odoo tries again later." % (base, timeout))
    if isinstance(exc, requests.ConnectionError):
        if "refused" in text.lower():
            return "Cannot reach the worker at %s (connection refused) — is it running?" % base
        if any(s in text for s in ("Name or service not known", "NameResolutionError", "getaddrinfo",
                                   "nodename nor servname", "Temporary failure in name resolution")):
            return "Cannot reach the worker at %s (unknown host name) — check the worker URL." % base
        return "Cannot reach the worker at %s (connection failed) — is it running and reachable from Odoo?" % base
    return "Cannot call the worker at %s — check the worker URL." % base


def _error_suffix(error):
    if not isinstance(error, dict):
        return ""
    return ", JSON-RPC error %s: %s" % (error.get("code"), _short(error.get("message")))


def _short(value, limit=300):
    text = str(value or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
