"""The client for the platform in ``platform``: speakerd's own API, or a WooCommerce shop's orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from speakerd.intake.platform import PlatformClient
from speakerd.intake.woocommerce import WooClient

if TYPE_CHECKING:
    from speakerd.config import PlatformConfig


def client_for(platform: PlatformConfig) -> PlatformClient | WooClient:
    if platform.kind == "woocommerce":
        return WooClient(platform.url, str(platform.consumer_key), str(platform.consumer_secret), platform.timeout)
    return PlatformClient(platform.url, platform.token, platform.timeout)
