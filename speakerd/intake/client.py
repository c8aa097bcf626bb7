"""The client for a polled source: speakerd's own API, or a WooCommerce shop's orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from speakerd.intake.platform import PlatformClient
from speakerd.intake.woocommerce import WooClient

if TYPE_CHECKING:
    from speakerd.config import PlatformConfig


def client_for(platform: PlatformConfig, app: str = "") -> PlatformClient | WooClient:
    """``app``: the app of a source's messages (a WooCommerce shop's orders say ``woocommerce`` without one)."""
    if platform.kind == "woocommerce":
        return WooClient(platform.url, str(platform.consumer_key), str(platform.consumer_secret), platform.timeout, app or "woocommerce")
    return PlatformClient(platform.url, platform.token, platform.timeout)
