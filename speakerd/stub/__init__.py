"""The platform stub: ``speakerd stub`` runs it; tests and the demo start it in a thread."""

from __future__ import annotations

from speakerd.httpserver import BackgroundServer
from speakerd.stub.app import Platform, create_app
from speakerd.stub.scenarios import SCENARIOS

__all__ = ["Platform", "SCENARIOS", "StubServer", "create_app"]


class StubServer(BackgroundServer):
    """The stub as a real HTTP server in a background thread; ``port=0`` picks a free port."""

    def __init__(self, events=(), pace=0.0, token="demo-token", host="127.0.0.1", port=0) -> None:
        self.platform = Platform(events, pace)
        self.token = token
        super().__init__(create_app(self.platform, token), host, port, name="stub-http", threads=32)  # long-polls hold one each
        self.url = f"http://{host}:{self.port}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
