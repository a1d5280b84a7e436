"""JSON-RPC client for Odoo -> worker calls (``POST <worker_url>/rpc``, bearer worker token).

Every call is bounded: the design allows at most 10 s across the wire, and a cron or a post-commit
thread must never hang on a dead worker.
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

    Raises ``WorkerUnreachable`` (network, timeout, HTTP 5xx, garbage body) or ``WorkerRejected``
    (HTTP 4xx or a JSON-RPC error object, whose ``data`` is kept for field-level errors).
    """
    endpoint = url.rstrip("/") + "/rpc"
    body = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": method, "params": params}
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        resp = requests.post(endpoint, json=body, headers=headers, timeout=timeout or TIMEOUT_S)
    except requests.RequestException as exc:
        raise WorkerUnreachable("%s: %s" % (type(exc).__name__, _short(exc))) from exc
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        err = doc["error"]
        raise WorkerRejected(
            "%s (JSON-RPC %s, HTTP %s)" % (_short(err.get("message")), err.get("code"), resp.status_code),
            data=err.get("data"),
        )
    if resp.status_code >= 500:
        raise WorkerUnreachable("HTTP %s from %s" % (resp.status_code, endpoint))
    if resp.status_code >= 400:
        raise WorkerRejected("HTTP %s from %s" % (resp.status_code, endpoint))
    if not isinstance(doc, dict) or "result" not in doc:
        raise WorkerUnreachable("Response of %s is not a JSON-RPC result" % endpoint)
    return doc["result"]


def _short(value, limit=300):
    text = str(value or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
