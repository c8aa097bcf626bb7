"""A hostile web client against the page over real HTTP: every answer deliberate (never a 500), the daemon serving on."""

from __future__ import annotations

import concurrent.futures
import re

import pytest
import requests

from speakerd.device.password import set_password
from speakerd.ports import free_port
from tests.conftest import fast_platform

from ..helpers import WEB_PASSWORD, wait_until


@pytest.fixture
def page(stub, write_config, run_daemon):
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    port = free_port()
    cfg = fast_platform(server.url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}"}
    path = write_config(cfg)
    set_password(path, WEB_PASSWORD)
    daemon = run_daemon(path)
    base = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: requests.get(base + "/login", timeout=2).status_code == 200, 10)
    return daemon, base


def token(session, base, where="/login"):
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + where, timeout=5).text).group(1)


def log_in(base):
    s = requests.Session()
    s.post(base + "/login", data={"password": WEB_PASSWORD, "csrf_token": token(s, base)}, timeout=10)
    return s


def rss_mib():
    """This process's resident memory: the daemon under attack runs in it."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024


def test_a_hostile_client_gets_deliberate_answers_and_the_page_keeps_serving(page, caplog):
    daemon, base = page
    answers, before = [], rss_mib()

    def guess(i):
        s = requests.Session()
        return s.post(base + "/login", data={"password": f"guess-{i}", "csrf_token": token(s, base)}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:  # 20 wrong passwords at once
        guesses = list(pool.map(guess, range(20)))
    assert set(guesses) <= {401, 429, 503} and guesses.count(401) <= 4
    answers += guesses

    anon = requests.Session()
    answers.append(anon.post(base + "/snooze", data={"minutes": "60"}, timeout=5).status_code)  # no login, no token
    answers.append(anon.post(base + "/login?next=/%09/evil.example/x", data={"password": "x"}, timeout=5).status_code)
    for bad in ("/ack/%C3%A9.1.%C3%A9", "/ack/" + "A" * 5000, "/ack/..%2F..%2Fsettings"):
        answers.append(anon.get(base + bad, timeout=5).status_code)
    answers.append(anon.post(base + "/settings/sounds/upload", data=b"x" * (7 * 1024 * 1024),
                             headers={"Content-Type": "application/octet-stream"}, timeout=30).status_code)

    staff = log_in(base)
    for url in ("/reports?until=notadate", "/reports?since=0001-01-01", "/reports?by=%00", "/messages/../../settings"):
        answers.append(staff.get(base + url, timeout=10).status_code)
    answers.append(staff.post(base + "/messages/ack", data={"csrf_token": token(staff, base, "/"), "message_id": "../../m-1\n"},
                              timeout=5).status_code)
    stolen = dict(staff.cookies)
    staff.post(base + "/logout", data={"csrf_token": token(staff, base, "/")}, timeout=5)
    replay = requests.get(base + "/settings", cookies=stolen, allow_redirects=False, timeout=5)
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]

    assert 500 not in answers, answers
    assert not daemon.store.query("select 1 from messages where acked_at is not null")  # nothing acknowledged by the attack
    assert daemon.store.followup.snoozed_until() == 0
    assert requests.get(base + "/login", timeout=5).status_code == 200  # still serving
    assert rss_mib() - before < 200  # password checks are bounded (two at once) and big bodies are refused unread
    assert WEB_PASSWORD not in caplog.text and "guess-3" not in caplog.text


@pytest.mark.parametrize("minutes", ["nan", "inf", "-inf", "1e999"])
def test_a_mute_of_nan_or_infinite_minutes_mutes_for_the_usual_time(page, minutes):
    """Regression: /snooze with minutes=nan answered 500."""
    daemon, base = page
    s = log_in(base)
    answer = s.post(base + "/snooze", data={"minutes": minutes, "csrf_token": token(s, base, "/")}, timeout=10, allow_redirects=False)
    assert answer.status_code == 302
    muted = daemon.store.followup.snoozed_until() - daemon.store.clock.time()
    assert 0 < muted <= daemon.cfg.gpio.mute_minutes * 60 + 5


def test_idle_connections_that_never_finish_their_headers_do_not_hold_the_page(page):
    """Regression: 16 TCP connections that never finished their headers hung the dashboard, settings, set-up and
    every acknowledge link for as long as they stayed open (werkzeug gave each a thread and no read timeout)."""
    import socket

    daemon, base = page
    port = int(base.rsplit(":", 1)[1])
    idle = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line that ends the headers
            idle.append(s)
        s = log_in(base)
        assert s.get(base + "/", timeout=10).status_code == 200
        assert s.get(base + "/settings", timeout=10).status_code == 200
    finally:
        for s in idle:
            s.close()


def test_a_request_with_headers_beyond_the_bound_is_refused(page):
    _, base = page
    answer = requests.get(base + "/login", headers={f"X-Pad-{i}": "x" * 1000 for i in range(100)}, timeout=10)
    assert answer.status_code == 431 or answer.status_code == 400
    assert requests.get(base + "/login", timeout=10).status_code == 200


def test_only_the_devices_own_names_are_answered(page, caplog):
    """Regression: any Host header was served, so a page elsewhere could reach the device by DNS rebinding."""
    from speakerd.device.netinfo import host_name

    _, base = page
    port = base.rsplit(":", 1)[1]
    for host in ("attacker.example", "evil.example:80", f"{host_name()}.attacker.example"):
        refused = requests.get(base + "/login", headers={"Host": host}, timeout=5)
        assert refused.status_code == 421 and "地址不对" in refused.text, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"{host_name()}.local:{port}", f"[::1]:{port}", "192.168.1.50"):
        assert requests.get(base + "/login", headers={"Host": host}, timeout=5).status_code == 200, host
    assert caplog.text.count("not one of this device's names") == 1  # once a minute, not once a request


def test_a_page_that_no_longer_answers_is_an_alert_and_starves_the_watchdog(tmp_path):
    """Regression: a hung page went unnoticed: the watchdog was fed while nobody could open the dashboard."""
    import socket

    from speakerd.clock import FakeClock
    from speakerd.daemon.web_probe import STALL, WebProbe, local_url
    from speakerd.health.alerts import Health
    from speakerd.store import Store

    assert local_url("0.0.0.0:8080") == "http://127.0.0.1:8080" and local_url("[::]:8080") == "http://[::1]:8080"
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # takes connections and never answers, as a page whose every worker is stuck
    clock, told = FakeClock(), []
    try:
        with Store(tmp_path / "s.db", clock) as store:
            health = Health(store, told.append, fail_after=60, remind_every=900)
            probe = WebProbe(health, lambda: f"http://127.0.0.1:{hung.getsockname()[1]}", clock.monotonic)
            assert not probe.check() and probe.alive()
            clock.advance(seconds=61)
            assert not probe.check()
            assert [m["type"] for m in told] == ["tech.web.alert"] and "设置网页没有响应" in told[0]["content"]
            clock.advance(seconds=STALL)
            assert not probe.alive()  # the daemon stops feeding the watchdog: systemd restarts it
    finally:
        hung.close()


def test_the_page_that_answers_keeps_the_watchdog_fed(page):
    from speakerd.daemon.web_probe import local_url

    daemon, base = page
    assert daemon.chores.web_probe.check() and daemon.chores.web_probe.alive()
    assert local_url(daemon.cfg.web.listen) == base
