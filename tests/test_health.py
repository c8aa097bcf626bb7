"""The link monitor: down only after health.fail_after, up at the next good answer, with the outage length."""

import logging

from speakerd.errors import PlatformError
from speakerd.health import LinkMonitor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Listener:
    def __init__(self):
        self.events = []

    def platform_down(self, kind, reason, since):
        self.events.append(("down", kind, since))

    def platform_up(self, outage_seconds):
        self.events.append(("up", outage_seconds))


def test_down_after_fail_after_then_up_with_duration(caplog):
    clock, listener = Clock(), Listener()
    link = LinkMonitor(60, [listener], clock)
    link.failed(PlatformError("unreachable", "refused"))
    clock.now += 30
    link.failed(PlatformError("unreachable", "refused"))
    assert listener.events == []
    clock.now += 31
    link.failed(PlatformError("unreachable", "refused"))
    clock.now += 100
    link.failed(PlatformError("unreachable", "refused"))
    assert listener.events == [("down", "unreachable", 1000.0)]
    clock.now += 9
    link.ok()
    assert listener.events[-1] == ("up", 170.0)
    assert "platform reachable again after 170 s" in caplog.text


def test_short_blip_is_only_logged(caplog):
    caplog.set_level(logging.INFO)
    clock, listener = Clock(), Listener()
    link = LinkMonitor(60, [listener], clock)
    link.failed(PlatformError("server", "HTTP 500"))
    clock.now += 5
    link.ok()
    assert listener.events == []
    assert "platform poll failed: HTTP 500" in caplog.text and "platform answering again" in caplog.text
