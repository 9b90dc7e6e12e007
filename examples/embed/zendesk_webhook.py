# ruff: noqa: INP001
"""A Zendesk webhook receiver on the standard library: triage each ticket and answer with the result.

Run it::

    ZENDESK_WEBHOOK_SECRET=... python examples/embed/zendesk_webhook.py --port 8080

Point a Zendesk webhook (a trigger's, or a ticket event's) at
``http://HOST:8080/``. Each POST body is a Zendesk ticket payload; the answer
is JSON with the placement (``triage``, one row as the batch API gives it,
with the policy's hash) and the fields to write back (``zendesk``). With
``ZENDESK_WEBHOOK_SECRET`` set, a request whose signature does not match is
refused (401). Bodies over 1 MiB are refused (413); a payload the adapter
refuses gets 422 with the adapter's message.

``http.server`` is fine behind a proxy for modest traffic; for more, put the
same ``handle`` function in the ASGI or WSGI app you already run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from servicetriage.adapters import zendesk
from servicetriage.batch import policy_hash, result_row
from servicetriage.errors import TicketError
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

MAX_BODY = 1 << 20


def valid_signature(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Zendesk signs ``timestamp + body`` with HMAC-SHA256, base64-encoded."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature)


def handle(body: bytes, policy: TriagePolicy, digest: str, now: datetime) -> tuple[int, dict[str, Any]]:
    """The status and JSON answer for one webhook body: pure, so it can sit in any web framework."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        return HTTPStatus.BAD_REQUEST, {"error": f"not valid JSON: {error}"}
    try:
        ticket = zendesk.to_ticket(payload)
    except TicketError as error:
        return HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(error)}
    result = policy.classify(ticket, now)
    return HTTPStatus.OK, {"triage": result_row(ticket, result, digest), "zendesk": zendesk.from_triage(result)}


def make_server(host: str, port: int, policy: TriagePolicy = DEFAULT_POLICY, secret: str | None = None) -> Any:
    """A threading HTTP server that triages Zendesk webhooks (port 0 picks a free port)."""
    digest = policy_hash(policy)  # once, at start

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body over {MAX_BODY} bytes"})
                return
            body = self.rfile.read(length)
            if secret is not None and not valid_signature(
                secret,
                body,
                self.headers.get("X-Zendesk-Webhook-Signature-Timestamp", ""),
                self.headers.get("X-Zendesk-Webhook-Signature", ""),
            ):
                self.answer(HTTPStatus.UNAUTHORIZED, {"error": "bad signature"})
                return
            self.answer(*handle(body, policy, digest, datetime.now(UTC)))

        def answer(self, status: int, data: dict[str, Any]) -> None:
            text = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet; log through your own logger here

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = make_server(args.host, args.port, secret=os.environ.get("ZENDESK_WEBHOOK_SECRET"))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
