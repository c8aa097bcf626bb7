"""What installing builds: unit files that pass systemd's own checker, and a package that builds cleanly with its data."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service")) + [ROOT / "systemd" / "kiosk" / "speakerd-kiosk.service"]
CHECKERS = Path(sys.executable).parent.parent / "share" / "checkers"  # fetched by scripts/dev-setup


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
    text = unit.read_text().replace("/opt/speakerd/venv/bin/speakerd", str(here))
    if not Path("/usr/bin/xinit").exists():  # the kiosk's X starter is installed on the device only
        text = text.replace("/usr/bin/xinit", shutil.which("true") or "/bin/true")
    target.write_text(text)
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
    assert {"speakerd/web/templates/dashboard.html", "speakerd/web/templates/setup/claim.html", "speakerd/web/static/app.css",
            "speakerd/web/static/favicon.svg", "speakerd/web/translations/zh/LC_MESSAGES/messages.mo",
            "speakerd/config/example_config.yaml"} <= set(names)
    assert not any("__pycache__" in n for n in names)


@pytest.fixture
def checkers():
    if not (CHECKERS / "avahi-service.dtd").exists():
        if os.environ.get("CI"):
            pytest.fail("avahi's DTD and comitup's config reader are missing: run scripts/dev-setup")
        pytest.skip("scripts/dev-setup has not fetched avahi's and comitup's checkers")
    return CHECKERS


def test_the_avahi_service_file_is_valid_by_avahis_own_dtd(checkers, tmp_path):
    xmllint = shutil.which("xmllint")
    assert xmllint, "xmllint is missing: scripts/dev-setup installs libxml2-utils"
    service = ROOT / "systemd" / "avahi" / "speakerd.service"
    done = subprocess.run([xmllint, "--noout", "--dtdvalid", str(checkers / "avahi-service.dtd"), str(service)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "<port>8080</port>" in service.read_text() and "_http._tcp" in service.read_text()


def test_comitups_own_reader_takes_the_config_and_the_panel_names_its_hotspot(checkers, tmp_path):
    from speakerd.device import netinfo

    conf = ROOT / "systemd" / "comitup" / "comitup.conf"
    read = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from comitup.config import Config; "
                           "c = Config(sys.argv[2]); print(c.ap_name); print(c.external_callback)", str(checkers), str(conf)],
                          capture_output=True, text=True, timeout=30)
    assert read.returncode == 0, read.stderr
    ap_name, callback = read.stdout.split()
    assert ap_name == "<hostname>-wifi"
    assert f"install -D -m 0755 \"$SRC/systemd/comitup/comitup-callback\" {callback}" in (ROOT / "scripts" / "install.sh").read_text()
    state = tmp_path / "wifi"
    callback_script = ROOT / "systemd" / "comitup" / "comitup-callback"
    for said, shown in (("HOTSPOT", f"{socket.gethostname().split('.')[0]}-wifi"), ("CONNECTED", "")):
        subprocess.run(["sh", str(callback_script), said, "activated"], env={**os.environ, "SPEAKERD_WIFI_STATE": str(state)}, check=True)
        assert netinfo.hotspot(state, conf) == shown


def test_the_installer_refuses_a_32_bit_system_before_it_installs_anything(tmp_path):
    """Regression: on 32-bit Raspberry Pi OS the install failed deep in pip (no armv7 onnxruntime) without a word."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg").write_text("#!/bin/sh\necho armhf\n")
    (fake / "dpkg").chmod(0o755)
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh"), "--no-start"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert done.returncode == 1
    assert "needs a 64-bit system; this one is armhf" in done.stderr and "本设备需要 64 位系统" in done.stderr
    assert "==>" not in done.stdout  # nothing was done


def test_the_installer_refuses_a_name_the_network_cannot_use_before_it_installs_anything():
    """The quick start names http://speakerd.local:8080; --hostname sets another, checked before anything is done."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh"), "--no-start", "--hostname", "Shop Desk!"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "is not a network name" in done.stderr and "不能用作网络名称" in done.stderr and "==>" not in done.stdout
