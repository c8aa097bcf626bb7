"""A platform that answers however a test scripts it: redirects, resets, stalls, garbage. Loopback only."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]


def batch(messages: list[dict[str, Any]], next_cursor: str, **extra: Any) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps({"messages": messages, "next": next_cursor, **extra}).encode()


class HostilePlatform:
    """``answer(query) -> (status, headers, body)`` decides each reply; ``requests`` keeps what was asked."""

    def __init__(self, answer: Callable[[dict[str, str]], Answer]) -> None:
        self.answer = answer
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                owner.requests.append({"path": urlsplit(self.path).path, **query})
                status, headers, body = owner.answer(query)
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostilePlatform:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
