"""What installing builds: unit files that pass systemd's own checker, and a package that builds cleanly with its data."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service"))


@pytest.fixture
def analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing: .ci/run must install systemd")
        pytest.skip("systemd-analyze not installed")
    return tool


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_verifies(unit, analyze, tmp_path):
    here = Path(sys.executable).parent / "speakerd"
    target = tmp_path / unit.name
    target.write_text(unit.read_text().replace("/opt/speakerd/venv/bin/speakerd", str(here)))
    result = subprocess.run([analyze, "verify", "--man=no", str(target)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "Invalid" not in result.stderr, result.stderr


def test_daemon_unit_keeps_what_the_device_needs():
    text = (ROOT / "systemd" / "speakerd.service").read_text()
    for line in ("Restart=always", "After=network-online.target sound.target", "User=speakerd", "StateDirectory=speakerd",
                 "ProtectSystem=strict", "DeviceAllow=char-alsa rw", "DeviceAllow=char-i2c rw",
                 "DeviceAllow=char-gpiochip rw", "ExecReload=/bin/kill -HUP $MAINPID", "Type=notify", "WatchdogSec=60"):
        assert line in text.splitlines(), line
    assert "PrivateDevices=yes" not in text  # it would hide the sound card, the I2C bus and the GPIO chip


def test_the_package_builds_without_setuptools_warnings_and_ships_its_data(tmp_path):
    """Regression: the set-up printed about 60 'package would be ignored' warnings: the page's templates and
    static files are now declared, and the wheel carries them."""
    import subprocess
    import sys
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-v"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "would be ignored" not in done.stdout + done.stderr
    names = zipfile.ZipFile(next(tmp_path.glob("speakerd-*.whl"))).namelist()
    assert {"speakerd/web/templates/dashboard.html", "speakerd/web/static/app.css", "speakerd/example_config.yaml"} <= set(names)
    assert not any("__pycache__" in n for n in names)
