"""Attacks from the platform's side: each keeps the daemon running, loses nothing, and says what happened once."""

from __future__ import annotations

import pytest
import yaml

from speakerd.errors import PlatformError
from speakerd.platform import PlatformClient
from tests.conftest import EXAMPLE

from .hostile import HostilePlatform, batch


def test_a_redirect_to_another_host_is_refused_not_followed():
    """Regression: a redirect was followed and the other host's answer taken as platform data."""
    with HostilePlatform(lambda q: batch([{"id": "evil-1", "type": "order.paid", "content": "不该收到"}], "e1")) as elsewhere:
        with HostilePlatform(lambda q: (302, {"Location": elsewhere.url + "/v1/messages"}, b"")) as platform:
            client = PlatformClient(platform.url, "token-77", timeout=2)
            with pytest.raises(PlatformError) as refused:
                client.fetch(None, 10)
    assert refused.value.kind == "not_found" and "redirects to" in refused.value.reason and elsewhere.url in refused.value.reason
    assert elsewhere.requests == []  # the token never went there


def test_after_a_long_outage_the_platform_is_asked_again_within_about_30_seconds(tmp_path):
    """Regression: the retries backed off to 5 minutes, so the office waited minutes after the platform was back."""
    from speakerd import config as config_mod
    from speakerd.demo import free_port
    from speakerd.health import Health
    from speakerd.poller import Poller
    from speakerd.store import Store

    shipped = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    shipped["platform"] = {"url": f"http://127.0.0.1:{free_port()}", "timeout": 0.5}
    cfg = config_mod.parse_text(yaml.safe_dump(shipped, allow_unicode=True))
    assert cfg.platform.poll_interval == 5 and cfg.platform.retry_max == 30  # the defaults a shop runs with
    with Store(tmp_path / "speakerd.db") as store:
        poller = Poller(cfg, store, Health(store, lambda *a: None, 60, 900), lambda: None, lambda: [], lambda: None)
        waits = [poller.poll_once() for _ in range(12)]
        poller.close()
    assert max(waits) <= 30 and min(waits[6:]) >= 15
    assert len(set(waits[6:])) > 1  # jittered: devices that lost the platform together do not all return at once
