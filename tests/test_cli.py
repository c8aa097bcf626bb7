import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import wave
from datetime import datetime, timezone

import pytest
import requests

from speakerd.cli import main
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.ports import free_port
from speakerd.reports.timeparse import parse_since

from .conftest import EXAMPLE, fast_platform
from .helpers import wait_until


def test_check_config_ok_and_broken(tmp_path, capsys):
    assert main(["check-config", "-c", str(EXAMPLE)]) == 0
    assert "OK (10 categories, 7 departments, 10 staff" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform:\n  token: [abc-secret]\n  timeout: 0\n")
    with pytest.raises(SystemExit) as info:
        main(["check-config", "-c", str(bad)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: platform.token: must be text, not a list" in err
    assert f"{bad}:3: platform.timeout: must be at least 0.5 (got 0.0)" in err
    assert "abc-secret" not in err


def test_check_config_uses_environment_variable(monkeypatch, capsys):
    monkeypatch.setenv("SPEAKERD_CONFIG", str(EXAMPLE))
    assert main(["check-config"]) == 0
    assert str(EXAMPLE) in capsys.readouterr().out


@pytest.fixture
def filled(write_config, open_store):
    from speakerd import config

    path = write_config()
    cfg = config.load(path)
    store = open_store(config.database_path(cfg, path))
    Ingest(cfg, store)(Batch([
        {"id": "m-1", "type": "finance.withdrawal", "content": "张三申请提现5000元，请审核"},
        {"id": "m-2", "content": 7},
    ], "2"), ["log"])
    return path


def test_messages_table_and_json(filled, capsys):
    assert main(["messages", "-c", str(filled)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "received", "category", "department", "staff_id", "outputs", "content"]
    assert out[1].split()[:1] == ["m-1"] and "finance" in out[1] and "003" in out[1] and "log:pending" in out[1]
    assert main(["messages", "-c", str(filled), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == "m-1" and rows[0]["staff_id"] == "003" and rows[0]["content"].startswith("张三申请提现")
    assert main(["messages", "-c", str(filled), "--quarantined"]) == 0
    assert "content must be text, not a number" in capsys.readouterr().out
    assert main(["messages", "-c", str(filled), "--since", "2999-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_messages_without_database_says_so(write_config, capsys):
    assert main(["messages", "-c", str(write_config())]) == 1
    assert "no database at" in capsys.readouterr().err


def test_local_time_is_shown_in_the_device_zone(monkeypatch):
    import time as time_mod

    from speakerd.reports.timeparse import local_time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time_mod.tzset()
    try:
        assert local_time("2026-11-23T12:56:16.228+00:00") == "11-23 20:56:16"
    finally:
        monkeypatch.delenv("TZ")
        time_mod.tzset()


def test_parse_since():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert parse_since("30m", now) == "2026-11-23T11:30:00.000+00:00"
    assert parse_since("2d", now) == "2026-11-21T12:00:00.000+00:00"
    assert parse_since("2026-11-20T08:00+08:00") == "2026-11-20T00:00:00.000+00:00"
    with pytest.raises(ValueError, match="use 30m, 2h"):
        parse_since("yesterday-ish")


def test_stub_command_serves_the_api():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "speakerd", "stub", "--port", str(port), "--pace", "0", "--count", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = f"http://127.0.0.1:{port}/v1/messages"
        assert wait_until(lambda: _answers(url))
        body = requests.get(url, headers={"Authorization": "Bearer demo-token"}, timeout=5).json()
        assert len(body["messages"]) >= 5 and body["next"] == str(len(body["messages"]))
        assert requests.get(url, timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def _answers(url):
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False


def test_demo_runs_stub_and_daemon_and_stops_on_ctrl_c(tmp_path):
    no_card = tmp_path / "asound.conf"
    no_card.write_text("pcm.null { type null }\npcm.!default { type hw\n card 9 }\n")  # a default card that is not there
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "speakerd", "demo", "--dir", str(tmp_path), "--pace", "0.05", "--count", "12"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "ALSA_CONFIG_PATH": str(no_card)})
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        assert wait_until(lambda: any("web page      :" in line for line in lines), timeout=20)
        page = next(line for line in lines if "web page      :" in line)
        address, password = re.search(r"(http://127\.0\.0\.1:\d+)/  password (\S+)", page).groups()
        assert wait_until(lambda: (tmp_path / "speakerd.db").exists(), timeout=20)
        assert wait_until(lambda: len(list((tmp_path / "audio").glob("*.wav"))) >= 2, timeout=60)
        # The newcomer opens the page, logs in with the printed password and sees the panel.
        session = requests.Session()
        login = session.get(f"{address}/login", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        assert session.post(f"{address}/login", data={"password": password, "csrf_token": token}, timeout=5).url == f"{address}/"
        assert session.get(f"{address}/panel.png", timeout=5).headers["Content-Type"] == "image/png"
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        reader.join(10)  # the last lines are read once the pipe closes
        elapsed = time.monotonic() - started
        out = "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "platform stub : http://127.0.0.1:" in out and "dashboard with the panel's picture" in out
    assert f"announcements : no sound card found: played in real time, each kept as a WAV file in {tmp_path / 'audio'}" in out
    heard = sum(w.getnframes() / w.getframerate() for w in map(wave.open, map(str, (tmp_path / "audio").glob("*.wav"))))
    assert 0 < heard <= elapsed  # played at a speaker's pace, never faster: the demo hears the queue an office would
    assert "deliberately broken events (ids m-bad-…)" in out  # the demo's bad events are labelled as such
    assert "speakerd.routed" in out and "staff" in out
    assert f"its data stays in {tmp_path}" in out
    assert "Traceback" not in out


# --- rough edges a shop's staff met (issue: set up and run by shop staff) ------------------------


def test_a_listing_piped_into_head_ends_quietly(write_config, tmp_path):
    """Regression: 'speakerd messages | head -1' ended in a BrokenPipeError traceback."""
    from speakerd import config as config_mod
    from speakerd.store import Store

    path = write_config(fast_platform("http://127.0.0.1:9"))
    with Store(config_mod.database_path(config_mod.load(path), path)) as store:
        Ingest(config_mod.load(path), store)(Batch([{"id": f"m-{n}", "content": f"内容{n}" * 40} for n in range(400)], "400"), ["log"])
    done = subprocess.run(f"{sys.executable} -m speakerd messages --limit 400 -c {path} | head -1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_set_password_with_nothing_on_standard_input_says_so(write_config):
    """Regression: 'speakerd set-password </dev/null' ended in an EOFError traceback."""
    path = write_config(fast_platform("http://127.0.0.1:9"))
    done = subprocess.run([sys.executable, "-m", "speakerd", "set-password", "-c", str(path)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no password given; nothing changed" in done.stderr and "Traceback" not in done.stderr


def test_listing_sound_devices_without_a_sound_card_says_so(tmp_path):
    """Regression: 'speakerd say --list-devices' printed nothing on a machine without a sound card."""
    no_card = tmp_path / "asound.conf"
    no_card.write_text("pcm.null { type null }\npcm.!default { type hw\n card 9 }\n")
    done = subprocess.run([sys.executable, "-m", "speakerd", "say", "--list-devices"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "ALSA_CONFIG_PATH": str(no_card)})
    assert done.returncode == 1 and "no sound card found" in done.stderr and "speech.device: null" in done.stderr


def test_log_lines_and_tables_escape_what_could_forge_a_line_or_drive_the_terminal():
    """Regression: an id with a line break wrote a forged 'INFO speakerd.web: login from …' line, and ESC bytes in
    quarantined ids or raw answers reached the terminal through 'messages --quarantined'."""
    import logging

    from speakerd.logs import EscapingFormatter
    from speakerd.plaintext import table

    record = logging.LogRecord("speakerd.intake.ingest", logging.WARNING, __file__, 1, "quarantined message %s: %s",
                               ("x\nINFO speakerd.web: login from 10.0.0.9", "bad \x1b[2J"), None)
    line = EscapingFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "WARNING speakerd.intake.ingest: quarantined message x\n    INFO speakerd.web: login from 10.0.0.9: bad \\x1b[2J"
    shown = table([{"id": "m-\x1b[31m", "raw": "gnp\u202e.exe"}], ["id", "raw"])
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b[31m" in shown and "\\u202e" in shown


def test_check_config_never_prints_a_password_in_the_platform_address(write_config, capsys):
    """Regression: check-config printed platform.url as written, user:password and all."""
    path = write_config({"platform": {"url": "https://device7:s3cret-pw@shop.example/api"}})
    assert main(["check-config", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s3cret-pw" not in out and "https://shop.example/api" in out


def test_commands_find_the_services_database_in_the_installed_layout(tmp_path, monkeypatch, write_config, stub, capsys):
    """Regression: setup-code, status, messages and kiosk-url looked for /etc/speakerd/speakerd.db while the service
    wrote /var/lib/speakerd/speakerd.db, so the code the README points to could not be printed."""
    from speakerd import config as config_mod
    from speakerd.daemon.wiring import Daemon
    from speakerd.ports import free_port

    from .conftest import fast_platform

    etc, var = tmp_path / "etc", tmp_path / "var"
    etc.mkdir()
    var.mkdir()
    monkeypatch.setattr(config_mod, "SERVICE_CONFIG_DIR", etc)
    monkeypatch.setattr(config_mod, "SERVICE_STATE_DIR", var)
    cfg = fast_platform(stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}]).url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{free_port()}"}
    path = write_config(cfg, name="etc/config.yaml")
    monkeypatch.setenv("STATE_DIRECTORY", str(var))  # as systemd runs the service
    daemon = Daemon(path, outputs_factory=lambda *a, **k: [])
    daemon.start()
    try:
        code = daemon.claim.code()
        monkeypatch.delenv("STATE_DIRECTORY")  # as a person runs a command
        assert main(["setup-code", "-c", str(path)]) == 0
        assert capsys.readouterr().out.strip() == code
        assert (var / "speakerd.db").exists() and not (etc / "speakerd.db").exists()
        assert main(["messages", "-c", str(path)]) == 0
    finally:
        daemon.stop()


def test_a_config_this_user_may_not_read_says_what_to_do_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    """Regression: as a normal user, `speakerd say` ended in a PermissionError traceback (the config is 0640 in a 0750 folder)."""
    import os

    from speakerd import config as config_mod

    folder = tmp_path / "etc-speakerd"
    folder.mkdir()
    path = folder / "config.yaml"
    path.write_text((__import__("pathlib").Path(config_mod.__file__).with_name("example_config.yaml")).read_text(encoding="utf-8"), encoding="utf-8")
    real_stat, real_open = os.stat, os.open

    def refused(real):
        def call(target, *args, **kwargs):
            if str(target).startswith(str(folder)):
                raise PermissionError(13, "Permission denied", str(target))
            return real(target, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "stat", refused(real_stat))  # what the kernel answers a user outside the speakerd group
    monkeypatch.setattr(os, "open", refused(real_open))
    assert config_mod.present(path)
    with pytest.raises(SystemExit) as stopped:
        main(["say", "-c", str(path), "你好"])
    assert stopped.value.code == 1
    said = capsys.readouterr().err
    assert "this user may not read it" in said and "sudo adduser $USER speakerd" in said and "Traceback" not in said
