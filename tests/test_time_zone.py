"""One time zone for the whole device: the shop's, from ``calendar.time_zone``, whatever the system says."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from speakerd import config as config_mod
from speakerd.config import zone
from speakerd.errors import ConfigError

from .test_followup import Clock, Device, withdrawal

LATE_AFTERNOON = datetime(2026, 12, 6, 16, 33, tzinfo=timezone(timedelta(hours=8)))  # 08:33 UTC


@pytest.fixture
def on_utc(monkeypatch):
    """The system's zone is UTC, as Raspberry Pi OS Lite images come."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_a_device_on_utc_shows_reports_and_days_in_the_shops_zone(write_config, on_utc, capsys):
    """Regression: the platform's times were +08:00 and the device's UTC: a sale at 16:33 was listed at 08:33 (and one at
    00:30 in the shop on the day before), while the dashboard's clock said the shop's time."""
    from speakerd.cli import main
    from speakerd.reports import stats

    path = write_config({"calendar": {"time_zone": "Asia/Shanghai"}})
    clock = Clock(LATE_AFTERNOON)
    device = Device(path, clock=clock)
    assert os.environ["TZ"] == "Asia/Shanghai"
    device.receive(withdrawal(1))
    clock.advance(hours=8)  # 00:33 the next day in the shop; still 2026-12-06 in UTC
    device.receive(withdrawal(2))
    device.store.close()
    assert main(["messages", "-c", str(path)]) == 0
    listing = capsys.readouterr().out
    assert "12-06 16:33:00" in listing and "12-07 00:33:00" in listing
    device.restart()
    days = {row["day"]: row["messages"] for row in stats.report(device.store, "day", "2026-12-06", "2026-12-07")}
    assert days == {"2026-12-06": 1, "2026-12-07": 1}
    device.store.close()


def test_an_unknown_or_hostile_zone_is_refused_naming_the_field_and_line(write_config):
    for bad in ("Asia/Shenzhen", "../../etc/passwd", "CST+8"):
        path = write_config({"calendar": {"time_zone": bad}})
        with pytest.raises(ConfigError) as caught:
            config_mod.load(path)
        assert "calendar.time_zone" in str(caught.value) and "is not a time zone this system knows" in str(caught.value)


def test_an_empty_zone_keeps_the_systems_and_the_set_up_offers_shanghai_where_the_system_says_utc(write_config, on_utc):
    config_mod.load(write_config({"calendar": {"time_zone": ""}}))
    assert os.environ["TZ"] == "UTC"
    assert zone.suggested() == "Asia/Shanghai" and zone.suggested("Asia/Taipei") == "Asia/Taipei"
