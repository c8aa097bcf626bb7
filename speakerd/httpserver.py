"""A WSGI app served on a background thread by waitress, for the stub and the device's web page.

The page listens on the office network without a login in front of the set-up,
so it must not be held by anyone: waitress reads requests in its own event
loop and hands a worker thread only a complete request, closes connections
idle for ``channel_timeout`` and bounds what a request may carry. (werkzeug's
development server, used before, gave each connection a thread and set no
read timeout: sixteen connections that never finished their headers froze
every page.) The socket is bound here, so that a port in use raises OSError for
the caller to explain.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any, Self

from waitress.server import create_server

THREADS = 8  # requests worked on at once; complete requests beyond them wait in a queue, connections cost no thread
IDLE_SECONDS = 30  # a connection silent this long is closed (a stuck or hostile client)
MAX_HEADERS = 64 * 1024  # bytes of request line and headers
MAX_BODY = 16 * 1024 * 1024  # bytes of body: above any upload the page takes (the app refuses those over 6 MB itself)


class BackgroundServer:
    """``start()`` serves on a thread, ``serve_forever()`` on the caller's, ``stop()`` ends it and its connections.

    ``threads`` is more for the stub, whose long-polls each hold one for up to their wait.
    """

    def __init__(self, app: Any, host: str, port: int, name: str = "http", threads: int = THREADS) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        self.port = sock.getsockname()[1]
        self._map: dict[int, Any] = {}
        self._server = create_server(app, map=self._map, sockets=[sock], threads=threads, channel_timeout=IDLE_SECONDS,
                                     cleanup_interval=min(10, IDLE_SECONDS), max_request_header_size=MAX_HEADERS,
                                     max_request_body_size=MAX_BODY, connection_limit=200, ident="speakerd",
                                     clear_untrusted_proxy_headers=True, asyncore_loop_timeout=0.5)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    def start(self) -> Self:
        _quiet_waitress()
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread (the ``stub`` command) until interrupted."""
        _quiet_waitress()
        self._server.run()

    def stop(self) -> None:
        """Close the listening socket and every connection, on the server's own thread (its loop ends when none is
        left); requests under way are not waited for."""
        if self._thread.is_alive():
            closed = threading.Event()

            def close_all() -> None:
                for channel in list(self._map.values()):
                    channel.close()
                closed.set()

            try:
                self._server.trigger.pull_trigger(close_all)
                closed.wait(5)
            except OSError:  # the loop's own wake-up pipe is gone already: it is ending by itself
                self._close_channels()
            self._thread.join(5)
        else:
            self._close_channels()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)


    def _close_channels(self) -> None:
        for channel in list(self._map.values()):
            try:
                channel.close()
            except OSError:
                pass  # closed already


def _quiet_waitress() -> None:
    """waitress warns at every queued request ("Task queue depth is 2"): a busy minute, not a fault."""
    logging.getLogger("waitress").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
