"""A real HTTP receiver for the webhook tests: a local server on a free port that
records every request and answers with a programmable status (or hangs)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    path: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    # Answers to give, in order (an int status, or "hang" to sleep past the
    # timeout); when empty, 200.
    script: list[Any] = field(default_factory=list)
    hang_seconds: float = 12.0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request, checked with the standardwebhooks library."""
        return [Webhook(secret).verify(r.body, r.headers) for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            with lock:
                state.requests.append(Received({k.lower(): v for k, v in self.headers.items()},
                                               body, self.path))
                answer = state.script.pop(0) if state.script else 200
            if answer == "hang":
                time.sleep(state.hang_seconds)
                answer = 200
            self.send_response(answer)
            if 300 <= answer < 400:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answer {answer}".encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
