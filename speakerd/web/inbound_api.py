"""``POST /v1/inbound``: a platform pushes messages to the device, with a bearer token of its own.

The token says who pushes: ``web.inbound_token`` the platform itself (its
messages as if polled), a source of kind ``inbound`` that source (its name in
front of each id, as the app of messages that name none).

Answered in JSON for a program, never with a page: what was stored, what was a
repeat, and what was kept aside with the reason, so the sender can correct it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, jsonify, request

from speakerd.intake.source import Source, inbound
from speakerd.web.auth import bearer_matches

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.intake.ingest import IngestResult
    from speakerd.web.device import Device

ENDPOINT = "inbound"
SIGNATURE_SKEW = 300  # seconds a signed push's timestamp may be from the device's clock


def register(app: Flask, device: Device, csrf: object) -> None:
    @app.post("/v1/inbound", endpoint=ENDPOINT)
    def inbound() -> tuple[Response, int]:
        senders = _senders(device.cfg)
        if not senders:
            return jsonify(error="inbound is off on this device: set web.inbound_token, or a source of kind inbound"), 404
        sender = next((s for s in senders if bearer_matches(request.headers.get("Authorization", ""), s[1])), None)
        if sender is None:
            return jsonify(error="missing or wrong bearer token"), 401
        source, _, secret = sender
        refused = unsigned(request, secret, device.store.clock.time())
        if refused:
            return jsonify(error=refused), 401
        if device.cfg.fleet.role == "speaker":
            return jsonify(error="this device is a department speaker: send messages to its hub"), 409
        payload = request.get_json(silent=True)
        if payload is None:
            return jsonify(error="the body must be JSON: one message object or a list of them"), 400
        try:
            result = device.inbound.receive(payload, source)
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        return received(result), 200

    getattr(csrf, "exempt")(inbound)  # a program with its token, not a browser form


def received(result: IngestResult, **more: Any) -> Response:
    """What a push stored, what was a repeat, and what was kept aside with the reason, so the sender can correct it."""
    return jsonify(stored=[message_id for message_id, _, _ in result.new], duplicates=result.duplicates,
                   quarantined=[{"id": pid, "reason": reason} for pid, reason in result.quarantined], **more)


def _senders(cfg: Config) -> list[tuple[Source, str, str]]:
    """``(source, token, signing secret)`` of each that may push: the platform with ``web.inbound_token``, each inbound source."""
    platform = [(Source(), str(cfg.web.inbound_token), str(cfg.web.inbound_secret))] if str(cfg.web.inbound_token) else []
    return platform + [(source, str(settings.token), str(settings.secret)) for source, settings in inbound(cfg)]


def unsigned(req: Request, secret: str, now: float) -> str | None:
    """Why a push's signature does not hold (None when it does, or when no secret is set).

    The timestamp is signed with the body, so a request caught on the way cannot be sent again later than
    ``SIGNATURE_SKEW`` seconds after; within them, the store's dedupe keeps a resend from being told twice.
    """
    if not secret:
        return None
    stamp, signature = req.headers.get("X-Signature-Timestamp", ""), req.headers.get("X-Signature", "")
    if not stamp.isdigit() or not signature.startswith("sha256="):
        return "missing signature: X-Signature-Timestamp and X-Signature: sha256=… are needed (web.inbound_secret is set)"
    if abs(now - int(stamp)) > SIGNATURE_SKEW:
        return f"X-Signature-Timestamp is more than {SIGNATURE_SKEW} s from the device's clock"
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + req.get_data(), hashlib.sha256).hexdigest().encode()
    # As bytes: compare_digest refuses text that is not ASCII (a 500 before), and a header is whatever a stranger sends.
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")):
        return "wrong signature"
    return None
