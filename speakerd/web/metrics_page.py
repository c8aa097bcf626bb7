"""``/metrics`` for a Prometheus server: the text format, behind a bearer token of its own (``web.metrics_token``).

Not behind the staff login: a scraper has no session. Without a token set the
address does not exist, so a device never shows its figures by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from speakerd.reports.metrics import DeviceCollector
from speakerd.web.auth import bearer_matches

if TYPE_CHECKING:
    from speakerd.web.device import Device

ENDPOINT = "metrics"


def register(app: Flask, device: Device) -> None:
    registry = CollectorRegistry()
    registry.register(DeviceCollector(device.store, device.device_state.troubles, device.device_state.last_ok,
                                      lambda: ["platform", *device.cfg.sources]))
    ProcessCollector(registry=registry)  # the daemon's memory, CPU time and open files

    @app.get("/metrics", endpoint=ENDPOINT)
    def metrics() -> Response:
        token = str(device.cfg.web.metrics_token)
        if not token:
            abort(404)
        if not bearer_matches(request.headers.get("Authorization", ""), token):
            abort(401)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
