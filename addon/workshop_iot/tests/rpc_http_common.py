"""Shared helpers of the HTTP tests of ``POST /workshop_iot/rpc``: real server, real API keys."""

import http.client
import json
import select
import socket

from odoo.tests import HttpCase, new_test_user
from odoo.tests.common import HOST
from odoo.tools import config

from ..tools.login_log import refused_logins

URL = "/workshop_iot/rpc"
REFUSAL_LOGGER = "odoo.addons.workshop_iot.models.ir_http"


class RpcHttpCase(HttpCase):
    """Posts JSON-RPC to the test server with a bearer key; users get keys the way the worker
    form's 'Generate Odoo API key' mints them (``_generate`` as that user)."""

    def setUp(self):
        super().setUp()
        # Refused logins are logged once per address and minute: each test starts unthrottled.
        refused_logins.clear()
        self.addCleanup(refused_logins.clear)

    @classmethod
    def new_worker_user(cls, login, groups="workshop_iot.workshop_iot_group_worker"):
        """A user of ``groups`` and a real API key of it (no expiry, as for a service account)."""
        user = new_test_user(cls.env, login=login, groups=groups)
        key = cls.env["res.users.apikeys"].with_user(user).sudo()._generate(None, login, None)
        return user, key

    def post(self, key, body, raw=False, headers=None):
        data = body if raw else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", "Authorization": "Bearer %s" % key}
        all_headers.update(headers or {})
        self.env.flush_all()  # the request reads the tables in its own environment
        return self.url_open(URL, data=data, headers=all_headers)

    def rpc(self, key, method, params, call_id=1):
        """One call -> the decoded response object (HTTP 200 asserted)."""
        response = self.post(key, {"jsonrpc": "2.0", "id": call_id, "method": method, "params": params})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def ingest(self, key, worker_uid, events):
        """events.ingest -> the result items (the call itself must succeed)."""
        doc = self.rpc(key, "events.ingest", {"worker_uid": worker_uid, "events": events})
        self.assertIn("result", doc, doc)
        return doc["result"]["results"]

    def post_raw_chunked(self, key, chunked_body):
        """POST ``chunked_body`` as is, after ``Transfer-Encoding: chunked`` headers (for malformed
        chunk framing). Returns ``(status, parsed JSON body)``."""
        self.env.flush_all()
        with socket.create_connection((HOST, config["http_port"]), timeout=60) as sock:
            sock.sendall((
                "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n" % (URL, HOST, key)).encode() + chunked_body)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, json.loads(response.read())

    def post_chunked(self, key, total_bytes, content_type="application/json", first=b""):
        """POST ``first`` then spaces up to ``total_bytes`` with ``Transfer-Encoding: chunked`` (no
        Content-Length) on a raw socket, and stop sending as soon as the server answers, as a
        client does when a server refuses early. Returns ``(status, parsed JSON body)``."""
        self.env.flush_all()
        sock = socket.create_connection((HOST, config["http_port"]), timeout=60)
        try:
            sock.sendall((
                "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n"
                "Transfer-Encoding: chunked\r\n\r\n" % (URL, HOST, key, content_type)).encode())
            sent, part = 0, first
            try:
                while sent < total_bytes:
                    if select.select([sock], [], [], 0)[0]:
                        break  # the answer is there: stop sending
                    part = part or b" " * min(64 * 1024, total_bytes - sent)
                    sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                    sent, part = sent + len(part), b""
                else:
                    sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed while we were still sending
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, json.loads(response.read())
        finally:
            sock.close()
