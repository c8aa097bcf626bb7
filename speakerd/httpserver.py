"""A WSGI app served on a background thread, for the stub and the device's web page.

The socket is bound here, so that a port in use raises OSError for the
caller to explain, instead of werkzeug printing and exiting the process.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any, Self

from werkzeug.serving import ThreadedWSGIServer

MAX_THREADS = 16  # requests served at once; the next wait to be accepted instead of each getting a thread


class BoundedServer(ThreadedWSGIServer):
    """werkzeug's threaded server with at most ``MAX_THREADS`` request threads: a flood of requests waits its
    turn rather than growing threads and memory without end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_THREADS)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class BackgroundServer:
    def __init__(self, app, host, port, name="http") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        try:
            self._server = BoundedServer(host, port, app, fd=sock.fileno())
        finally:
            sock.close()  # make_server holds its own duplicate
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    def start(self) -> Self:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread (the ``stub`` command) until interrupted."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
