"""Fixtures named for what they give: a stub platform, a config file, a running daemon."""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path

import pytest
import yaml

from speakerd.clock import SYSTEM
from speakerd.daemon.wiring import Daemon
from speakerd.outputs.recording import RecordingOutput
from speakerd.store import Store
from speakerd.stub import StubServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.yaml"


def merge(base, overrides):
    """Deep-merge ``overrides`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def write_config(tmp_path):
    """Write the shipped example with ``overrides`` merged in; returns the path."""

    def write(overrides=None, name="config.yaml"):
        data = merge(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), overrides or {})
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def stub():
    """Start a stub platform on a free loopback port: ``stub(events, pace=0)``."""
    servers = []

    def start(events=(), pace=0.0, token="demo-token"):
        server = StubServer(list(events), pace=pace, token=token).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def fast_platform(url, **extra):
    """Platform settings that make tests quick: short polls and backoff."""
    return {"platform": {"url": url, "token": "demo-token", "poll_interval": 0.2, "long_poll": 0, "timeout": 2, "retry_max": 1, **extra},
            "web": {"enabled": False}, "speech": {"enabled": False}, "display": {"enabled": False}, "gpio": {"enabled": False}}


@pytest.fixture
def recording():
    return RecordingOutput()


@pytest.fixture
def run_daemon(recording):
    """Start a daemon in this process on a config path, with ``recording`` as its only output,
    the given ``outputs``, or (``real_outputs=True``) those its config asks for."""
    daemons = []

    def start(config_path, outputs=None, real_outputs=False):
        if real_outputs:
            daemon = Daemon(config_path)
        else:
            daemon = Daemon(config_path, outputs_factory=lambda *args, **parts: outputs if outputs is not None else [recording])
        daemon.start()
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.stop()


@pytest.fixture
def open_store():
    stores = []

    def open_(path, clock=SYSTEM):
        store = Store(path, clock)
        stores.append(store)
        return store

    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def shanghai(monkeypatch):
    """The device's time zone in the shop (local days and clock faces depend on it)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture(autouse=True)
def _speakerd_logs_at_info():
    logging.getLogger("speakerd").setLevel(logging.INFO)


@pytest.fixture(autouse=True)
def _the_machines_time_zone():
    """A config with ``calendar.time_zone`` sets the process's TZ when it is loaded: the next test starts on the machine's."""
    import os
    import time

    before = os.environ.get("TZ")
    yield
    if os.environ.get("TZ") != before:
        os.environ.pop("TZ", None) if before is None else os.environ.__setitem__("TZ", before)
        time.tzset()


@pytest.fixture
def receiver(monkeypatch):
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.wecombot import NotifyWeComBot

    from .helpers import Receiver

    r = Receiver().start()
    # DingTalk's robot lives at a fixed address; send its requests to the receiver instead.
    monkeypatch.setattr(NotifyDingTalk, "notify_url", f"http://127.0.0.1:{r.port}/robot/send?access_token={{token}}")
    monkeypatch.setattr(NotifyWeComBot, "notify_url", f"http://127.0.0.1:{r.port}/cgi-bin/webhook/send?key={{key}}")
    monkeypatch.setattr("speakerd.delivery.dispatch.RETRY_FIRST", 0.1)
    yield r
    if r._server:
        r.stop()


@pytest.fixture
def real_daemon(run_daemon):
    """A daemon with the outputs its config asks for (log and push)."""
    return lambda path: run_daemon(path, real_outputs=True)


@pytest.fixture
def shop():
    """A WooCommerce-shaped shop on a free loopback port (tests/woo_shop.py)."""
    from .woo_shop import Shop

    s = Shop()
    yield s
    s.stop()


@pytest.fixture
def site(stub, run_daemon, tmp_path):
    """The shipped config, comments and all, on a daemon with a password, and a client logged in to its settings page."""
    from speakerd.cli.demo import prepare
    from speakerd.web import create_app

    from .helpers import login

    server = stub([{"id": "m-1", "type": "finance.withdrawal", "content": "马丽申请提现500元", "data": {"amount": 500}}])
    setup = prepare(tmp_path, server.url)
    daemon = run_daemon(setup.config_path, outputs=[])
    client = create_app(daemon.store, daemon).test_client()
    login(client, setup.password)
    return daemon, client, setup.config_path

