"""``POST /v1/woocommerce/NAME``: a WooCommerce shop's order webhooks, so an order is told the moment the shop sends it.

Set up in the shop (WooCommerce → Settings → Advanced → Webhooks) with the
source's ``webhook_secret``; NAME is the source's name under ``sources:``, or
``platform`` for the ``platform:`` section. Each delivery is signed by the
shop (``X-WC-Webhook-Signature``: the body's HMAC-SHA256 under the secret,
base64) and carries the order as the REST API lists it, so it becomes the
same message a poll would make (``woo-ID-STATUS``): the polls, which go on,
find it stored and tell nobody twice, and catch up any webhook the shop
failed to deliver. The shop's ping when a webhook is saved (a form body,
``webhook_id=N``) is answered and stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request

from speakerd.intake.source import PLATFORM, Source
from speakerd.intake.woocommerce import as_message, is_order
from speakerd.logs import Sparse
from speakerd.web.inbound_api import received

if TYPE_CHECKING:
    from speakerd.web.device import Device

logger = logging.getLogger(__name__)
ENDPOINT = "woocommerce_webhook"


def register(app: Flask, device: Device, csrf: object) -> None:
    sparse = Sparse(logger)

    @app.post("/v1/woocommerce/<name>", endpoint=ENDPOINT)
    def woocommerce_webhook(name: str) -> tuple[Response, int]:
        cfg = device.cfg
        settings = cfg.platform if name == PLATFORM else cfg.sources.get(name)
        if settings is None or settings.kind != "woocommerce" or not str(settings.webhook_secret):
            return jsonify(error=f"no WooCommerce webhooks here for {name[:40]!r}: set webhook_secret of that source"), 404
        body = request.get_data()
        if not body.lstrip().startswith(b"{"):
            return jsonify(ok=True, stored=[]), 200  # the shop's ping as a webhook is saved: nothing to store
        if not signed(body, request.headers.get("X-WC-Webhook-Signature", ""), str(settings.webhook_secret)):
            sparse.warning(f"signature:{name}", "woocommerce: a webhook for %s refused: wrong or missing signature (check webhook_secret)", name)
            return jsonify(error="wrong or missing X-WC-Webhook-Signature (the webhook's secret is not this source's webhook_secret)"), 401
        topic = request.headers.get("X-WC-Webhook-Topic", "")
        if not topic.startswith("order."):
            return jsonify(ok=True, stored=[], ignored=topic[:60]), 200
        if cfg.fleet.role == "speaker":
            return jsonify(error="this device is a department speaker: point the webhook at its hub"), 409
        order = request.get_json(silent=True)
        if not is_order(order):
            return jsonify(error="the body is not a WooCommerce order (an object with a number id)"), 400
        source = Source(name)
        result = device.inbound.receive(as_message(order, source.app(cfg) or "woocommerce"), source)
        return received(result, ok=True), 200

    getattr(csrf, "exempt")(woocommerce_webhook)  # the shop, signing with the secret, not a browser form


def signed(body: bytes, signature: str, secret: str) -> bool:
    """Whether ``signature`` is WooCommerce's for ``body``: base64 of its HMAC-SHA256 under the webhook's secret."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    # As bytes: compare_digest refuses text that is not ASCII, and a header is whatever a stranger sends.
    return bool(signature) and hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
