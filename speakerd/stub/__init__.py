"""The platform stub: ``speakerd stub`` runs it; tests and the demo start it in a thread."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

from speakerd.stub.app import Platform, create_app
from speakerd.stub.scenarios import SCENARIOS

__all__ = ["Platform", "SCENARIOS", "StubServer", "create_app"]


class StubServer:
    """A real HTTP server on loopback in a background thread; ``port=0`` picks a free port."""

    def __init__(self, events=(), pace=0.0, token="demo-token", host="127.0.0.1", port=0):
        self.platform = Platform(events, pace)
        self.token = token
        self._server = make_server(host, port, create_app(self.platform, token), threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="stub-http", daemon=True)

    def start(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
