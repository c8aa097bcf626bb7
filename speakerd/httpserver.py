"""A WSGI app served on a background thread, for the stub and the device's web page.

The socket is bound here, so that a port in use raises OSError for the
caller to explain, instead of werkzeug printing and exiting the process.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Self

from werkzeug.serving import make_server


class BackgroundServer:
    def __init__(self, app, host, port, name="http") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        try:
            self._server = make_server(host, port, app, threaded=True, fd=sock.fileno())
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
