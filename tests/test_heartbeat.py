"""The heartbeat to an outside monitor: called while well, the down URL (or nothing) while an outage lasts, never logged."""

from __future__ import annotations

import logging

import yaml

from speakerd import config as config_mod
from speakerd.clock import FakeClock
from speakerd.health.alerts import Health
from speakerd.health.heartbeat import Heartbeat
from speakerd.store import Store

from .conftest import fast_platform
from .helpers import Receiver, wait_until


def settings(write_config, **health):
    return config_mod.load(write_config({"health": {"fail_after": 1, **health}}))


def test_called_while_well_the_down_url_during_an_outage_and_up_again_after(write_config, tmp_path):
    receiver = Receiver().start()
    base = f"http://127.0.0.1:{receiver.port}/ping"
    cfg = settings(write_config, heartbeat_url=f"{base}/up-token", heartbeat_down_url=f"{base}/up-token/fail?status=down&msg={{reason}}")
    clock = FakeClock()
    try:
        with Store(tmp_path / "s.db", clock) as store:
            health = Health(store, lambda message: None, 1, 900)
            beat = Heartbeat(health, lambda: cfg)
            assert beat.beat() == "up"
            health.failing("platform", "unreachable", "connection refused")
            assert beat.beat() == "up"  # a blip shorter than fail_after is no outage
            clock.advance(seconds=2)
            health.failing("platform", "unreachable", "connection refused")
            assert beat.beat() == "down"
            health.ok("platform")
            clock.advance(seconds=2)
            health.ok("platform")
            assert beat.beat() == "up"
    finally:
        receiver.stop()
    pings = receiver.kinds("ping")
    assert [p["path"] for p in pings] == ["up-token", "up-token", "up-token/fail", "up-token"]
    assert pings[2]["status"] == "down" and pings[2]["msg"] == "platform"


def test_without_a_down_url_nothing_is_called_in_an_outage(write_config, tmp_path):
    receiver = Receiver().start()
    cfg = settings(write_config, heartbeat_url=f"http://127.0.0.1:{receiver.port}/ping/x")
    clock = FakeClock()
    try:
        with Store(tmp_path / "s.db", clock) as store:
            health = Health(store, lambda message: None, 1, 900)
            health.failing("disk", "disk_full", "12 MB free")
            clock.advance(seconds=2)
            health.tick()
            assert Heartbeat(health, lambda: cfg).beat() is None
    finally:
        receiver.stop()
    assert receiver.kinds("ping") == []


def test_a_failing_monitor_is_logged_once_without_its_token(write_config, tmp_path, caplog):
    receiver = Receiver().start()
    cfg = settings(write_config, heartbeat_url=f"http://127.0.0.1:{receiver.port}/ping/gone-SECRET-TOKEN")
    try:
        with Store(tmp_path / "s.db", FakeClock()) as store, caplog.at_level(logging.INFO, logger="speakerd.health.heartbeat"):
            beat = Heartbeat(Health(store, lambda message: None, 1, 900), lambda: cfg)
            assert beat.beat() is None and beat.beat() is None
    finally:
        receiver.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "404" in warnings[0] and "127.0.0.1" in warnings[0]
    assert not any("SECRET-TOKEN" in r.getMessage() for r in caplog.records if r.name != "werkzeug")  # the monitor's own log may


def test_the_running_daemon_calls_the_monitor_at_once(stub, write_config, run_daemon):
    receiver = Receiver().start()
    cfg = fast_platform(stub().url)
    cfg["health"] = {"heartbeat_url": f"http://127.0.0.1:{receiver.port}/ping/device-1", "heartbeat_every": "5m"}
    try:
        run_daemon(write_config(cfg))
        assert wait_until(lambda: [p["path"] for p in receiver.kinds("ping")] == ["device-1"])
    finally:
        receiver.stop()


def test_a_bad_heartbeat_url_is_refused_without_showing_it(write_config):
    path = write_config({"health": {"heartbeat_url": "hc-ping.com/SECRET-UUID"}})
    try:
        config_mod.load(path)
    except config_mod.ConfigError as exc:
        problems = "\n".join(exc.problems)
    assert "health.heartbeat_url: must be an http://" in problems and "SECRET-UUID" not in problems
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["health"]["heartbeat_url"]
