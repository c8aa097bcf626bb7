"""The web page through Flask's test client, on a running daemon: login, every route, CSRF, saving config.yaml."""

from __future__ import annotations

import re
import time

import pytest
import yaml

from speakerd.device.password import password_file, set_password
from speakerd.web import auth, create_app
from tests.conftest import fast_platform
from tests.helpers import WEB_PASSWORD as PASSWORD

from .helpers import AtOnce, csrf, login, wait_until

# The example's orders department as its staff form sends it back unchanged.
ORDERS_STAFF = {"staff-0-id": "001", "staff-0-name": "李娜", "staff-0-on_duty": "on", "staff-1-id": "002", "staff-1-name": "陈伟",
                "staff-1-on_duty": "on"}


@pytest.fixture
def site(stub, write_config, run_daemon, recording):
    """A daemon on the stub with two messages in, a password set, and a test client for its page."""
    server = stub([
        {"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1", "data": {"order_id": "1", "amount": 99.0}},
        {"id": "m-2", "type": "finance.withdrawal", "content": "马丽申请提现500元", "user": {"id": "u-1", "name": "马丽"}, "data": {"amount": 500}},
    ])
    path = write_config(fast_platform(server.url))
    set_password(path, PASSWORD)
    daemon = run_daemon(path)
    assert recording.wait_for(2)
    app = create_app(daemon.store, daemon)
    app.config["WTF_CSRF_ENABLED"] = True
    return daemon, app, path


def version(client):
    return re.search(r'name="version" value="([^"]+)"', client.get("/settings").get_data(as_text=True)).group(1)


def form(client, **values):
    return {"csrf_token": csrf(client, "/settings"), "version": version(client), **values}


ROUTES = ["/", "/settings", "/reports", "/reports?by=department", "/board", "/api/state", "/panel.png"]
ACTIONS = ["/settings/section/platform", "/settings/staff/orders", "/settings/route", "/settings/try", "/settings/speech/test",
           "/settings/push-test/003", "/messages/ack", "/snooze", "/mute", "/replay", "/duty", "/logout"]


@pytest.mark.parametrize("url", ROUTES)
def test_every_page_needs_a_login(site, url):
    client = site[1].test_client()
    answer = client.get(url, headers={"Accept": "text/html"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert client.get(url, headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize("url", ACTIONS)
def test_every_action_needs_a_login_and_a_csrf_token(site, url):
    daemon, app, _ = site
    client = app.test_client()
    assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 401
    login(client)
    refused = client.post(url, data={"minutes": "30"})
    assert refused.status_code == 400 and "页面已过期或来源不明" in refused.get_data(as_text=True)
    assert daemon.store.followup.snoozed_until() == 0 and daemon.store.acks.waiting_count() == 2


def test_login_logout_and_the_pages_after_it(site):
    daemon, app, _ = site
    client = app.test_client()
    assert login(client).status_code == 302
    dashboard = client.get("/").get_data(as_text=True)
    assert "客户张三已支付订单1" in dashboard and "马丽申请提现500元" in dashboard and "平台连接正常" in dashboard
    assert "财务部" in dashboard and "003" in dashboard  # department and person of each message
    assert "订单" in client.get("/reports?by=category").get_data(as_text=True)
    assert "<svg" in client.get("/reports").get_data(as_text=True)
    assert "全部已处理" not in client.get("/board").get_data(as_text=True)
    assert client.get("/api/state").get_json()["today"]["messages"] == 2
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_wrong_passwords_are_refused_logged_and_slowed_down(site, caplog):
    client = site[1].test_client()
    for _ in range(3):
        assert login(client, "nope").status_code == 401
    slowed = login(client, "nope")
    assert slowed.status_code == 429 and "秒后再试" in slowed.get_data(as_text=True)
    assert login(client).status_code == 429  # even the right one waits its turn
    assert "wrong password from 127.0.0.1 (3 in a row)" in caplog.text
    assert PASSWORD not in caplog.text and "nope" not in caplog.text


def test_a_new_password_ends_existing_sessions(site):
    _, app, path = site
    client = app.test_client()
    login(client)
    assert client.get("/").status_code == 200
    set_password(path, "another password")
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_no_password_set_means_nobody_gets_in_and_the_login_leads_to_the_set_up(site):
    _, app, path = site
    password_file(path).unlink()
    client = app.test_client()
    assert client.get("/login").headers["Location"] == "/setup"
    assert client.get("/", headers={"Accept": "text/html"}).headers["Location"] == "/setup"


def test_pages_carry_security_headers_and_load_nothing_from_outside(site):
    client = site[1].test_client()
    login(client)
    for url in ROUTES[:-2]:
        answer = client.get(url)
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert not re.search(r'(src|href)="(https?:)?//', answer.get_data(as_text=True))
    assert client.get("/static/app.css").status_code == 200


def test_acknowledge_from_the_dashboard(site):
    daemon, app, _ = site
    client = app.test_client()
    login(client)
    client.post("/messages/ack", data={"csrf_token": csrf(client, "/"), "message_id": "m-2"})
    assert daemon.store.query("select acked_via from messages where id = 'm-2'")[0]["acked_via"] == "web"
    assert "m-2 已确认" in client.get("/").get_data(as_text=True)


def test_snooze_from_the_page(site):
    daemon, app, _ = site
    client = app.test_client()
    login(client)
    client.post("/snooze", data={"csrf_token": csrf(client, "/"), "minutes": "15"})
    assert 14 * 60 < daemon.store.followup.snoozed_until() - time.time() <= 15 * 60
    assert "结束静音" in client.get("/").get_data(as_text=True)
    client.post("/snooze", data={"csrf_token": csrf(client, "/"), "end": "1"})
    assert daemon.store.followup.snoozed_until() == 0


def test_mute_a_category_replay_and_change_todays_duty_from_the_page(site):
    daemon, app, _ = site
    client = app.test_client()
    login(client)
    client.post("/mute", data={"csrf_token": csrf(client, "/"), "target": "category:campaign", "for": "30m"})
    assert [m["target"] for m in daemon.store.mutes.active(time.time())] == ["campaign"]
    page = client.get("/").get_data(as_text=True)
    assert "活动 静音至" in page or "活动静音至" in page
    client.post("/mute", data={"csrf_token": csrf(client, "/"), "target": "category:campaign", "end": "1"})
    assert daemon.store.mutes.active(time.time()) == []
    client.post("/mute", data={"csrf_token": csrf(client, "/"), "target": "category:nosuch", "for": "30m"})
    client.post("/mute", data={"csrf_token": csrf(client, "/"), "target": "department:tech", "for": "nan"})
    assert daemon.store.mutes.active(time.time()) == []
    assert wait_until(lambda: client.post("/replay", data={"csrf_token": csrf(client, "/")}).status_code == 302)
    on_duty = re.search(r'<table id="on-duty">(.*?)</table>', client.get("/").get_data(as_text=True), re.S).group(1)
    assert "001 李娜" in on_duty and "002 陈伟" in on_duty
    client.post("/duty", data={"csrf_token": csrf(client, "/"), "staff_id": "001", "change": "off"})
    on_duty = re.search(r'<table id="on-duty">(.*?)</table>', client.get("/").get_data(as_text=True), re.S).group(1)
    assert "001 李娜" not in on_duty and "002 陈伟" in on_duty
    client.post("/duty", data={"csrf_token": csrf(client, "/"), "staff_id": "001", "change": "covers", "covers": "006"})
    assert daemon.store.duty.of_day(time.strftime("%Y-%m-%d")).by_staff["001"].state == "off"  # refused: 006 is in another department


def test_saving_keeps_comments_and_layout_keeps_a_backup_and_reloads_the_daemon(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    before = path.read_text(encoding="utf-8")
    path.write_text("# kept: a note the person wrote\n" + before, encoding="utf-8")
    answer = client.post("/settings/section/platform", data=form(client, **{
        "platform.url": daemon.cfg.platform.url, "platform.poll_interval": "0.5", "platform.long_poll": "0", "platform.timeout": "2"}))
    assert answer.status_code == 302
    after = path.read_text(encoding="utf-8")
    assert after.startswith("# kept: a note the person wrote\n")
    assert re.search(r"(?m)^  poll_interval: 0.5$", after)
    assert path.with_name("config.yaml.bak").read_text(encoding="utf-8").startswith("# kept")
    assert wait_until(lambda: daemon.cfg.platform.poll_interval == 0.5)
    assert "已保存" in client.get("/settings").get_data(as_text=True)


def test_a_save_of_the_shipped_config_changes_only_the_lines_it_must(tmp_path):
    from speakerd.config.editor import ConfigFile, flow_map
    from tests.conftest import EXAMPLE

    path = tmp_path / "config.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    f = ConfigFile(path)
    f.apply({"platform.poll_interval": 3, "categories.finance.repeat.every": 10}, f.read()[1], edit=lambda doc: doc["subsystems"]["mall"]["departments"]["orders"]["staff"].append(flow_map({"id": "012", "name": "林静"})))
    before, after = EXAMPLE.read_text(encoding="utf-8").splitlines(), path.read_text(encoding="utf-8").splitlines()
    assert [line for line in after if line not in before] == ["  poll_interval: 3", "      every: 10", "          - {id: '012', name: 林静}"]
    assert [line for line in before if line not in after] == ["  poll_interval: 5", "      every: 5"]
    assert len(after) == len(before) + 1


def test_a_bad_value_is_shown_at_its_field_and_nothing_is_written(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    before = path.read_text(encoding="utf-8")
    answer = client.post("/settings/section/platform", data=form(client, **{
        "platform.url": "ftp://nowhere", "platform.poll_interval": "0.01", "platform.long_poll": "0", "platform.timeout": "2"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert re.search(r'has-error">\s*<label for="platform.url">.*?必须是以 http:// 或 https:// 开头的地址', page, re.S)
    assert re.search(r'has-error">\s*<label for="platform.poll_interval">.*?不能小于 0.2', page, re.S)
    assert 'value="0.01"' in page  # what the person typed stays in the form
    assert path.read_text(encoding="utf-8") == before


def test_an_edit_by_hand_while_the_page_is_open_is_detected_and_not_overwritten(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    opened = form(client)
    path.write_text(path.read_text(encoding="utf-8").replace("retention_days: 90", "retention_days: 60"), encoding="utf-8")
    answer = client.post("/settings/section/retention", data={**opened, "storage.retention_days": "30", "storage.mask_after_days": "0",
                                                              "stats.digest_at": ""})
    assert answer.status_code == 409 and "被其他人修改过" in answer.get_data(as_text=True)
    assert "retention_days: 60" in path.read_text(encoding="utf-8")
    # The page now carries the new version: saving again applies the change onto the edited file.
    new_version = re.search(r'name="version" value="([^"]+)"', answer.get_data(as_text=True)).group(1)
    client.post("/settings/section/retention", data={**opened, "version": new_version, "storage.retention_days": "30",
                                                     "storage.mask_after_days": "0", "stats.digest_at": ""})
    assert "retention_days: 30" in path.read_text(encoding="utf-8")


def test_staff_of_a_department_are_edited_added_and_removed(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    client.post("/settings/staff/orders", data=form(client, count="2",
                **{"staff-0-id": "001", "staff-0-name": "李娜", "staff-0-on_duty": "on", "staff-0-lead": "on",
                   "staff-1-id": "002", "staff-1-name": "陈伟", "staff-1-remove": "on",
                   "staff-new-id": "012", "staff-new-name": "林静"}))
    assert wait_until(lambda: [(s.id, s.name, s.lead) for s in daemon.cfg.departments()["orders"][1].staff] == [("001", "李娜", True), ("012", "林静", False)])
    text = path.read_text(encoding="utf-8")
    assert re.search(r"- \{id: ['\"]012['\"], name: 林静\}", text)


def test_a_mobile_number_is_set_from_the_page_and_only_ever_shown_masked(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    fields = ORDERS_STAFF
    client.post("/settings/staff/orders", data=form(client, count="2", **fields, **{"staff-0-mobile": "13912345678"}))
    assert wait_until(lambda: daemon.cfg.staff()["001"][1].mobile == "13912345678")
    page = client.get("/settings").get_data(as_text=True)
    assert "139****5678" in page and "13912345678" not in page
    client.post("/settings/staff/orders", data=form(client, count="2", **fields))  # an empty box keeps the number
    assert wait_until(lambda: "13912345678" in path.read_text(encoding="utf-8"))
    answer = client.post("/settings/staff/orders", data=form(client, count="2", **fields, **{"staff-0-mobile": "call 139"}))
    assert answer.status_code == 400 and "call 139" not in answer.get_data(as_text=True)
    client.post("/settings/staff/orders", data=form(client, count="2", **fields, **{"staff-0-mobile_clear": "on"}))
    assert wait_until(lambda: daemon.cfg.staff()["001"][1].mobile == "")


def test_a_duplicate_staff_id_is_refused_at_its_row(site):
    _, app, path = site
    client = app.test_client()
    login(client)
    before = path.read_text(encoding="utf-8")
    answer = client.post("/settings/staff/orders", data=form(client, count="2",
                         **{"staff-0-id": "001", "staff-0-name": "李娜", "staff-0-on_duty": "on",
                            "staff-1-id": "003", "staff-1-name": "陈伟", "staff-1-on_duty": "on"}))
    assert answer.status_code == 400
    assert "工号 &#39;003&#39; 已在部门 &#39;orders&#39; 中使用" in answer.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before


def test_push_targets_are_never_shown_and_can_be_added(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    secret = "json://127.0.0.1:9/hook-secret-abc"
    client.post("/settings/staff/finance", data=form(client, count="1", **{
        "staff-0-id": "003", "staff-0-name": "王芳", "staff-0-on_duty": "on", "staff-0-lead": "on", "staff-0-push_add": secret}))
    assert wait_until(lambda: daemon.cfg.staff()["003"][1].push == (secret,))
    page = client.get("/settings").get_data(as_text=True)
    assert "hook-secret-abc" not in page and "json://" in page


def test_token_is_never_shown_and_empty_keeps_it(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    page = client.get("/settings").get_data(as_text=True)
    assert "demo-token" not in page and "已设置（留空不变）" in page
    client.post("/settings/section/platform", data=form(client, **{
        "platform.url": daemon.cfg.platform.url, "platform.token": "", "platform.poll_interval": "0.2", "platform.long_poll": "0",
        "platform.timeout": "2"}))
    assert daemon.cfg.platform.token == "demo-token"


def test_routes_are_saved_from_yaml_and_a_bad_route_is_named(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    page = client.get("/settings").get_data(as_text=True)
    route = re.search(r'<textarea name="route"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    import html

    route = html.unescape(route)
    bad = client.post("/settings/route", data=form(client, route=route.replace("department: finance", "department: finanse", 1)))
    assert bad.status_code == 400 and "没有部门 &#39;finanse&#39;" in bad.get_data(as_text=True)
    good = client.post("/settings/route", data=form(client, route=route.replace("department: service", "department: orders", 1)))
    assert good.status_code == 302
    assert wait_until(lambda: daemon.cfg.route.department == "orders")


def test_try_a_message_shows_where_it_would_go(site):
    _, app, _ = site
    client = app.test_client()
    login(client)
    page = client.post("/settings/try", data={"csrf_token": csrf(client, "/settings"), "text": "马丽申请提现500元"}).get_data(as_text=True)
    assert re.search(r"分类：<b>财务</b>", page) and "财务部 → 003 王芳" in page


def test_speak_a_test_sentence_and_send_a_test_push(site, tmp_path):
    daemon, app, _ = site
    client = app.test_client()
    login(client)
    answer = client.post("/settings/speech/test", data={"csrf_token": csrf(client, "/settings"), "text": "测试"})
    assert answer.status_code == 302
    assert "语音播报已关闭" in client.get("/settings").get_data(as_text=True)  # speech is off in this daemon
    client.post("/settings/push-test/003", data={"csrf_token": csrf(client, "/settings")})
    assert "003 没有推送目标" in client.get("/settings").get_data(as_text=True)


def test_a_category_escalation_chain_is_edited_as_text(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    page = client.get("/settings").get_data(as_text=True)
    assert 'value="30 lead, 60 tech"' in page
    fields = {m[0]: html_unescape(m[1]) for m in re.findall(r'name="(categories\.[^"]+)"[^>]*value="([^"]*)"', page)}
    fields["categories.finance.escalate"] = "20 lead, 45 007"
    answer = client.post("/settings/section/categories", data=form(client, **fields))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert wait_until(lambda: [(s.after, s.to) for s in daemon.cfg.categories["finance"].escalate] == [(20, "lead"), (45, "007")])
    bad = client.post("/settings/section/categories", data=form(client, **{**fields, "categories.finance.escalate": "20 nobody"}))
    assert bad.status_code == 400 and "&#39;nobody&#39; 既不是 lead" in bad.get_data(as_text=True)


def html_unescape(text):
    import html

    return html.unescape(text)


# --- holes an attack run found (hostile input issue) ------------------------------------------


def test_an_id_with_dot_dots_acknowledges_itself_and_nothing_else(stub, write_config, run_daemon, recording):
    """Regression: a message id with '../' made the dashboard's button acknowledge another message."""
    server = stub([{"id": "victim-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"},
                   {"id": "../../messages/victim-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    path = write_config(fast_platform(server.url))
    set_password(path, PASSWORD)
    daemon = run_daemon(path)
    assert recording.wait_for(2)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    page = client.get("/").get_data(as_text=True)
    assert 'action="/messages/ack"' in page and "../../messages/victim-1" in page
    client.post("/messages/ack", data={"csrf_token": csrf(client, "/"), "message_id": "../../messages/victim-1"})
    assert daemon.store.acks.message("../../messages/victim-1")["acked_at"] and not daemon.store.acks.message("victim-1")["acked_at"]


@pytest.mark.parametrize("target", ["/%09/evil.example:8080/x", "//evil.example/x", "/\\evil.example", "http://evil.example/", "javascript:alert(1)"])
def test_login_never_redirects_to_another_site(site, target):
    """Regression: POST /login?next=/%09/host:port/x answered Location: //host:port/x."""
    client = site[1].test_client()
    answer = client.post(f"/login?next={target}", data={"password": PASSWORD, "csrf_token": csrf(client)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_login_still_returns_to_the_page_asked_for(site):
    client = site[1].test_client()
    answer = client.post("/login?next=/reports?by=department", data={"password": PASSWORD, "csrf_token": csrf(client)})
    assert answer.headers["Location"] == "/reports?by=department"


def test_logout_ends_the_session_for_a_copied_cookie_too(site):
    """Regression: a cookie captured before logout still opened /settings."""
    client = site[1].test_client()
    login(client)
    cookie = client.get_cookie("session").value
    thief = site[1].test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/settings").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert thief.get("/settings", headers={"Accept": "text/html"}).status_code == 302


@pytest.mark.parametrize("url", ["/ack/é.1.é", "/ack/%E9%E9", "/reports?until=notadate", "/reports?since=0001-01-01",
                                 "/reports?since=2026-13-40&until=9999-12-31", "/reports?by=funnel&since=0001-01-01&until=9999-12-31",
                                 "/reports?by=vip&since=0001-01-01&until=9999-12-31"])
def test_bad_tokens_and_dates_get_a_page_not_a_500(site, url):
    """Regression: a token with é (TypeError in compare_digest) and impossible report dates answered 500."""
    client = site[1].test_client()
    login(client)
    answer = client.get(url)
    assert answer.status_code in (200, 403, 404), answer.status_code


def test_forty_guesses_at_once_are_one_check_and_thirty_nine_refusals(site, monkeypatch):
    """Regression: after a wait, 40 wrong passwords sent at once were all checked (no 429; RSS 161 → 1,339 MiB)."""
    from concurrent.futures import ThreadPoolExecutor

    _, app, _ = site
    now = [1000.0]
    app.extensions["speakerd"]["throttle"] = auth.Throttle(clock=lambda: now[0])
    checks = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checks.append(p) or real(h, p))
    client = app.test_client()
    for _ in range(3):
        assert login(client, "nope").status_code == 401
    now[0] += 70  # the wait is over

    def guess(i):
        c = app.test_client()
        return c.post("/login", data={"password": f"guess-{i}", "csrf_token": csrf(c)}).status_code

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    assert sorted(codes).count(401) == 1 and codes.count(429) == 39
    assert len(checks) == 3 + 1


def test_password_checks_at_once_are_bounded(monkeypatch, tmp_path):
    """Each check takes 32 MiB of scrypt: no more than two run at once, the others queue."""
    import threading

    set_password(tmp_path / "config.yaml", "correct horse")
    at_once, real = AtOnce(), auth.check_password_hash

    def slow(h, p):
        at_once.hold(0.2)
        return real(h, p)

    monkeypatch.setattr(auth, "check_password_hash", slow)
    threads = [threading.Thread(target=auth.check, args=(tmp_path / "config.yaml", "x")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert at_once.most == 2


def test_the_web_server_works_on_a_bounded_number_of_requests_at_once():
    """Request threads were unbounded: a flood of slow requests grew threads and memory without end."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from flask import Flask

    from speakerd.httpserver import THREADS, BackgroundServer

    app, at_once = Flask("slow"), AtOnce()

    @app.get("/")
    def slow():
        at_once.hold(0.3)
        return "ok"

    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(lambda _: requests.get(f"http://127.0.0.1:{server.port}/", timeout=30).text, range(40)))
    finally:
        server.stop()
    assert answers == ["ok"] * 40 and at_once.most == THREADS


def test_a_password_in_the_platform_address_is_never_shown_and_kept_on_save(stub, write_config, run_daemon):
    """Regression: the settings page showed platform.url as written, user:password and all."""
    server = stub([])
    url = server.url.replace("http://", "http://device7:s3cret-pw@")
    path = write_config(fast_platform(url))
    set_password(path, PASSWORD)
    daemon = run_daemon(path)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    for page in ("/settings", "/setup/platform"):
        assert "s3cret-pw" not in client.get(page).get_data(as_text=True), page
    assert client.post("/settings/section/platform", data=form(client, **{"platform.url": server.url, "platform.poll_interval": "0.3",
                                                                          "platform.long_poll": "0", "platform.timeout": "2"})).status_code == 302
    assert daemon.cfg.platform.url == url and daemon.cfg.platform.poll_interval == 0.3


def test_a_route_alias_bomb_pasted_into_the_route_editor_is_refused_at_once(site):
    from tests.test_hostile import route_bomb

    daemon, app, path = site
    client = app.test_client()
    login(client)
    before = path.read_text(encoding="utf-8")
    tree = route_bomb().split("route: ")[0] + "department: orders\nroutes: [*r6]\n"
    started = time.thread_time()  # the request's own CPU time (the test client runs it in this thread): load-proof
    answer = client.post("/settings/route", data=form(client, route=tree))
    assert answer.status_code == 400 and "expands to more than" in answer.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before and time.thread_time() - started < 2
    assert client.get("/settings").status_code == 200


def test_try_a_message_takes_a_tier_and_data_fields_and_a_field_route_leaves_the_rows_to_the_yaml_box(site):
    from speakerd.web.company import flat_routes

    daemon, app, path = site
    client = app.test_client()
    login(client)
    def ask(**fields):
        page = client.post("/settings/try", data={"csrf_token": csrf(client, "/settings"), **fields}).get_data(as_text=True)
        return re.search(r'id="tried">(.*?)</div>', page, re.S).group(1)

    vip = ask(text="客户已支付订单7", type="order.paid", app="wechat-mall", tier="vip")
    assert "会员部" in vip and "订单部" in vip  # the shipped VIP route tells membership too
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (vip_route,) = [r for r in data["route"]["routes"] if r["match"].get("tier") in ("vip", ["vip"])]
    vip_route["match"] = {"category": "order", "data": {"amount": ">= 1000"}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    daemon.reload()
    assert any(r.match.data == {"amount": ">= 1000"} for r in daemon.cfg.route.routes)
    big, small = ask(text="客户已支付订单8", type="order.paid", data="amount=1500"), ask(text="客户已支付订单9", type="order.paid", data="amount=80")
    assert "会员部" in big and "会员部" not in small
    assert flat_routes(daemon.cfg) is None  # the rows cannot show a data condition: the YAML box edits them, nothing dropped


def test_a_platform_outage_is_told_in_chinese_with_the_technical_reason_behind_details(stub, write_config, run_daemon):
    """Regression: the dashboard said "平台断开（16:20起）：the platform refused the token (HTTP 401): check platform.token"."""
    server = stub([])
    cfg = fast_platform(server.url, token="not-the-token")
    cfg["health"] = {"fail_after": 0.5}
    path = write_config(cfg)
    set_password(path, PASSWORD)
    daemon = run_daemon(path)
    assert wait_until(lambda: daemon.device_state.link_down() is not None)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    card = re.search(r'id="platform-state">(.*?)</div>', client.get("/").get_data(as_text=True), re.S).group(1)
    shown, details = card.split("<details>")
    assert "平台拒绝了设备的令牌" in shown and "HTTP 401" not in shown
    assert "HTTP 401" in details and "详细信息" in details


def test_a_departments_shifts_are_edited_on_the_settings_page(site):
    daemon, app, path = site
    client = app.test_client()
    login(client)
    staff = ORDERS_STAFF
    client.post("/settings/staff/orders", data=form(client, count="2", rota="workdays 09:00-18:00\nsat,sun 10:00-16:00 002", **staff))
    assert wait_until(lambda: [(s.days, s.hours, s.staff) for s in daemon.cfg.departments()["orders"][1].rota] ==
                      [("workdays", "09:00-18:00", ()), ("sat,sun", "10:00-16:00", ("002",))])
    assert "sat,sun 10:00-16:00 002" in client.get("/settings").get_data(as_text=True)
    before = path.read_text(encoding="utf-8")
    bad = client.post("/settings/staff/orders", data=form(client, count="2", rota="workdays 9-18\nweekends 10:00-16:00 007", **staff))
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "排班[0].hours" in page and "排班[1].days" in page and "排班[1].staff[0]" in page
    assert "workdays 9-18" in page and path.read_text(encoding="utf-8") == before  # what was typed stays to correct; nothing saved
    client.post("/settings/staff/orders", data=form(client, count="2", rota="", **staff))
    assert wait_until(lambda: daemon.cfg.departments()["orders"][1].rota == ())
