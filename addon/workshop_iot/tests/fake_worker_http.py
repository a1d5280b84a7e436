"""A fake worker at the HTTP boundary: a real HTTP server on a free local port answering JSON-RPC on
``POST /rpc`` from a table ``{method: handler(params) -> result}``. Unlike ``common.mock_worker``
(which replaces ``requests.post``), Odoo's real client, headers, timeouts and error mapping run.

Decouples the calibration tests and tour from a running worker process; ``calls`` records
``(method, params, headers)`` of each request.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RpcError(Exception):
    """Raised by a handler: answered as a JSON-RPC error object with ``data.code``."""

    def __init__(self, rpc_code, code, message, **data):
        super().__init__(message)
        self.rpc_code, self.code, self.message, self.data = rpc_code, code, message, data


class FakeWorkerServer:
    """``with FakeWorkerServer({"analysis.run": fn}) as worker: worker.url`` -> http://127.0.0.1:<port>."""

    def __init__(self, handlers):
        self.handlers = dict(handlers)
        self.calls = []
        self.server = None
        self.thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%s" % self.server.server_address[1]

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                fake.calls.append((body["method"], body["params"], dict(self.headers)))
                handler = fake.handlers.get(body["method"])
                try:
                    if handler is None:
                        raise RpcError(-32601, "METHOD_NOT_FOUND", "Unknown method %s" % body["method"])
                    doc = {"jsonrpc": "2.0", "id": body["id"], "result": handler(body["params"])}
                except RpcError as exc:
                    doc = {"jsonrpc": "2.0", "id": body["id"], "error": {
                        "code": exc.rpc_code, "message": exc.message, "data": dict(exc.data, code=exc.code)}}
                raw = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass  # the test log stays clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def methods(self):
        return [call[0] for call in self.calls]


def config_apply(params):
    """Handler of a worker that applies every config."""
    return {"applied": True, "version": params["config"]["version"],
            "changes": {"added": [], "updated": [], "removed": [], "broker_changed": False}}


def free_port():
    """A local port nobody listens on (for an unreachable worker)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
