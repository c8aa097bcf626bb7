"""A thin stand-in for the shop platform: serves the message API of the design contract.

Events are released one by one at ``pace`` seconds (0: all at once), held
open for long-polls, and can be added or disturbed through ``/admin/*`` so
that tests and demos can publish an event or inject a fault on demand.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

MAX_LIMIT = 1000
OPENAPI = Path(__file__).with_name("openapi.yaml")  # the published contract, served at /openapi.yaml
MAX_WAIT = 60.0
FAULTS = ("none", "500", "401", "404", "garbage", "slow", "open", "nolimit")  # the last two break the API for platform-check


class Platform:
    """The event log and its release schedule; thread-safe."""

    def __init__(self, events, pace=0.0) -> None:
        self._pending = list(events)
        self.log: list[Any] = []
        self.pace = pace
        self._changed = threading.Condition()
        self.fault: dict[str, Any] = {"mode": "none", "count": 0, "seconds": 0.0}
        self.requests = 0
        # This log's identity: a stub started again is a new log whose cursors mean something else.
        self.epoch = secrets.token_hex(8)
        if pace <= 0:
            self.publish(self._pending)
            self._pending = []
        else:
            threading.Thread(target=self._release, name="stub-release", daemon=True).start()

    def _release(self) -> None:
        while self._pending:
            self.publish([self._pending.pop(0)])
            time.sleep(self.pace)

    def publish(self, events: list[Any]) -> None:
        with self._changed:
            self.log.extend(events)
            self._changed.notify_all()

    def read(self, after: int, limit: int, wait: float) -> tuple[list[Any], str]:
        deadline = time.monotonic() + wait
        with self._changed:
            while len(self.log) <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            batch = self.log[after : after + limit]
        return batch, str(after + len(batch))

    def take_fault(self) -> dict[str, Any]:
        """The fault to apply to this request, counting it down."""
        with self._changed:
            self.requests += 1
            mode = self.fault["mode"]
            if mode == "none":
                return self.fault
            fault = dict(self.fault)
            if self.fault["count"] > 0:
                self.fault["count"] -= 1
                if self.fault["count"] == 0:
                    self.fault["mode"] = "none"
            return fault


def create_app(platform: Platform, token: str = "demo-token") -> Flask:
    app = Flask("speakerd.stub")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's setting

    def authorised() -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    @app.get("/v1/messages")
    def messages() -> ResponseReturnValue:
        fault = platform.take_fault()
        if fault["mode"] == "slow":
            time.sleep(fault["seconds"])
        elif fault["mode"] in ("500", "404"):
            return jsonify(error="injected fault"), int(fault["mode"])
        elif fault["mode"] == "garbage":
            return Response("<html>502 Bad Gateway</html>", status=200, mimetype="application/json")
        if fault["mode"] == "401" or (fault["mode"] != "open" and not authorised()):
            return jsonify(error="invalid token"), 401
        try:
            after = int(request.args.get("after", "0"))
            limit = MAX_LIMIT if fault["mode"] == "nolimit" else min(MAX_LIMIT, max(1, int(request.args.get("limit", "100"))))
            wait = min(MAX_WAIT, max(0.0, float(request.args.get("wait", "0"))))
        except ValueError:
            return jsonify(error="after, limit and wait must be numbers"), 400
        if after < 0:
            return jsonify(error="after must not be negative"), 400
        batch, nxt = platform.read(after, limit, wait)
        return jsonify(messages=batch, next=nxt, epoch=platform.epoch)

    @app.post("/admin/publish")
    def publish() -> ResponseReturnValue:
        if not authorised():
            return jsonify(error="invalid token"), 401
        body = request.get_json(force=True, silent=True)
        events = body if isinstance(body, list) else [body]
        platform.publish(events)
        return jsonify(published=len(events), total=len(platform.log))

    @app.post("/admin/fault")
    def fault() -> ResponseReturnValue:
        if not authorised():
            return jsonify(error="invalid token"), 401
        body = request.get_json(force=True, silent=True) or {}
        mode = str(body.get("mode", "none"))
        if mode not in FAULTS:
            return jsonify(error=f"mode must be one of {', '.join(FAULTS)}"), 400
        platform.fault = {"mode": mode, "count": int(body.get("count", 0)), "seconds": float(body.get("seconds", 0))}
        return jsonify(platform.fault)

    @app.get("/openapi.yaml")
    def openapi() -> ResponseReturnValue:
        """The contract this stub implements (docs/platform-api.md), for a platform developer's tools."""
        return Response(OPENAPI.read_text(encoding="utf-8"), mimetype="application/yaml")

    @app.get("/admin/status")
    def status() -> ResponseReturnValue:
        return jsonify(events=len(platform.log), requests=platform.requests, fault=platform.fault["mode"])

    return app
