"""A webhook receiver over real HTTP, in a thread: it checks each request's signature, drops
a delivery id it has seen (as receivers are told to), and can fail a share of requests.
Tests and bench/webhooks.py use it."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    secret: str = ""
    fail_share: float = 0.0  # this share of requests answers 500 (after reading them)
    fail_status: int = 500
    seed: int = 20
    received: list[dict] = field(default_factory=list)  # accepted first deliveries, bodies
    headers: list[dict] = field(default_factory=list)
    seen: Counter = field(default_factory=Counter)  # delivery id -> requests
    bad_signatures: int = 0
    failed: int = 0
    duplicates: int = 0  # a delivery id accepted once already, sent again
    accepted: set = field(default_factory=set)  # delivery ids processed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - a test's coin, not a secret
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verify(self, header: str, body: bytes) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(
            self.secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["Twelp-Delivery-Id"]
                with receiver.lock:
                    receiver.seen[delivery] += 1
                    if receiver.secret and not receiver.verify(
                        self.headers["Twelp-Signature"], body
                    ):
                        receiver.bad_signatures += 1
                        status = 400
                    elif receiver._random.random() < receiver.fail_share:
                        receiver.failed += 1
                        status = receiver.fail_status
                    elif delivery in receiver.accepted:
                        receiver.duplicates += 1  # acknowledged, not processed again
                        status = 200
                    else:
                        receiver.accepted.add(delivery)
                        receiver.received.append(json.loads(body))
                        receiver.headers.append(dict(self.headers))
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler
