"""The first-run wizard through Flask's test client, on a daemon that runs the shipped config with no password yet.

The device is claimed with the code its panel shows, then each step writes
config.yaml; after each, the file still carries its comments and loads with
check-config's own code.
"""

from __future__ import annotations

import re

import pytest
import yaml

from speakerd import config as config_mod
from speakerd.cli.demo import prepare
from speakerd.device.password import password_file, stored_hash
from speakerd.outputs.panel import screens
from speakerd.ports import free_port
from speakerd.web import auth, create_app

from .helpers import csrf, login, wait_until

PASSWORD = "front-desk-42"


@pytest.fixture
def blank(stub, run_daemon, tmp_path):
    """A fresh install: the shipped example config pointed at the stub, no web password (outputs recorded: the browser test plays sound)."""
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    setup = prepare(tmp_path, server.url)
    password_file(setup.config_path).unlink()
    daemon = run_daemon(setup.config_path)
    app = create_app(daemon.store, daemon)
    return daemon, app, setup.config_path, server


def claim(client, daemon, code=None, password=PASSWORD, again=None):
    return client.post("/setup", data={"csrf_token": csrf(client, "/setup"), "code": daemon.claim.code() if code is None else code,
                                       "password": password, "again": password if again is None else again})


def post(client, page, **values):
    return client.post(page, data={"csrf_token": csrf(client, page), **values})


def test_an_unclaimed_device_leads_every_page_to_the_wizard_and_shows_its_code_on_the_panel(blank):
    daemon, app, path, _ = blank
    client = app.test_client()
    for url in ("/", "/settings", "/login", "/reports"):
        answer = client.get(url, headers={"Accept": "text/html"})
        assert answer.status_code == 302 and answer.headers["Location"] == "/setup", url
    assert client.get("/api/state", headers={"Accept": "application/json"}).status_code == 401
    assert "屏幕上的代码" in client.get("/setup").get_data(as_text=True)
    code = daemon.claim.code()
    assert re.fullmatch(r"\d{6}", code)
    state = screens.PanelState(**daemon.device_state.panel())
    assert state.setup_code == code
    assert screens.frame(state, 0).tobytes() == screens.setup_screen(state).tobytes() != screens.idle_screen(state, 0).tobytes()


def test_a_wrong_code_sets_nothing_and_guesses_are_slowed_down(blank, caplog):
    daemon, app, path, _ = blank
    client = app.test_client()
    wrong = "000000" if daemon.claim.code() != "000000" else "111111"
    answer = claim(client, daemon, code=wrong)
    assert answer.status_code == 403 and "代码和设备屏幕上显示的不一致" in answer.get_data(as_text=True)
    assert stored_hash(path) is None
    claim(client, daemon, code=wrong)
    claim(client, daemon, code=wrong)
    assert claim(client, daemon).status_code == 429  # even the right code waits its turn now
    assert stored_hash(path) is None
    assert daemon.claim.code() not in caplog.text and PASSWORD not in caplog.text


def test_the_code_is_new_at_every_start_and_after_twenty_wrong_ones(blank, caplog):
    """Regression: the code never changed and was throttled per address only (about 42 h to even odds from 200 addresses)."""
    from speakerd.device.claim import MOST_WRONG, Claim

    daemon, _, path, _ = blank
    first = daemon.claim.code()
    restarted = Claim(daemon.store, path)
    restarted.rotate()  # what the daemon does when it starts
    second = restarted.code()
    assert second != first or first == second == ""  # a million codes: the same one twice fails once in a million runs
    wrong = "000000" if second != "000000" else "111111"
    for _ in range(MOST_WRONG - 1):
        assert not restarted.check(wrong)
    assert restarted.code() == second
    assert not restarted.check(wrong)  # the twentieth, from wherever: a new code
    assert restarted.code() != second and "20 wrong set-up codes" in caplog.text and second not in caplog.text


def test_the_password_must_be_long_enough_and_typed_twice_the_same(blank):
    daemon, app, path, _ = blank
    client = app.test_client()
    assert claim(client, daemon, password="short").status_code == 400
    assert claim(client, daemon, again="something else").status_code == 400
    assert stored_hash(path) is None


def test_the_wizard_sets_up_a_woocommerce_shop_as_the_platform_and_the_device_reads_its_orders(blank, shop, caplog):
    """The wizard asked for a speakerd platform's address and token only: a WooCommerce shop had to be typed into
    config.yaml, which shop staff do not do. Now its REST API key is asked for, tested and kept as the token is."""
    from .woo_shop import KEY, SECRET, T0, order

    daemon, app, path, _ = blank
    client = app.test_client()
    claim(client, daemon)
    page = client.get("/setup/platform").get_data(as_text=True)
    assert 'name="kind" value="woocommerce"' in page and 'name="consumer_secret"' in page
    page = post(client, "/setup/platform", kind="woocommerce", url=shop.url, consumer_key=KEY, consumer_secret="cs_wrong",
                action="test").get_data(as_text=True)
    assert "网店拒绝了这个密钥" in page and config_mod.load(path).platform.kind == "speakerd"  # nothing kept that failed
    shop.put(order(7, "processing", T0))
    page = post(client, "/setup/platform", kind="woocommerce", url=shop.url.removeprefix("http://"), consumer_key=KEY,
                consumer_secret=SECRET, action="test").get_data(as_text=True)
    assert "连接成功" in page and "已保存这个密钥" in page
    platform = config_mod.load(path).platform
    assert (platform.kind, platform.url, platform.consumer_key, platform.consumer_secret) == ("woocommerce", shop.url, KEY, SECRET)
    assert post(client, "/setup/platform", kind="woocommerce", url=shop.url, action="save").headers["Location"] == "/setup/company"
    assert config_mod.load(path).platform.consumer_secret == SECRET  # empty boxes keep what was tested
    page = client.get("/setup/platform").get_data(as_text=True)
    assert KEY not in page and SECRET not in page and "已设置" in page
    assert KEY not in caplog.text and SECRET not in caplog.text
    assert wait_until(lambda: any(m["id"] == "woo-7-processing" for m in daemon.store.reports.messages()), 20)
    assert post(client, "/setup/platform", kind="rss", url=shop.url, action="save").status_code == 400


def test_the_wizard_from_a_blank_device_to_a_working_dashboard(blank, caplog):
    daemon, app, path, server = blank
    client = app.test_client()
    comment = "# Bearer token the platform issued to this device. Never logged or shown."
    assert comment in path.read_text(encoding="utf-8")

    answer = claim(client, daemon)
    assert answer.status_code == 302 and answer.headers["Location"] == "/setup/platform"
    assert auth.check(path, PASSWORD) and daemon.claim.code() == ""
    assert screens.PanelState(**daemon.device_state.panel()).setup_code == ""
    assert client.get("/setup", headers={"Accept": "text/html"}).headers["Location"] == "/setup/platform"

    # The platform: a test that names the failure in words, then one that connects, then saved.
    path.write_text(path.read_text(encoding="utf-8").replace("token: demo-token", "token: old-token"), encoding="utf-8")
    assert daemon.reload() and str(daemon.cfg.platform.token) == "old-token"
    dead = f"http://127.0.0.1:{free_port()}"
    page = post(client, "/setup/platform", url=dead, action="test").get_data(as_text=True)
    assert "连不上平台" in page and "refused the connection" in page
    page = post(client, "/setup/platform", url=server.url, token="not-the-token", action="test").get_data(as_text=True)
    assert "平台拒绝了访问令牌" in page
    # An address typed without http:// is the one meant, not a wrong one.
    page = post(client, "/setup/platform", url=server.url.removeprefix("http://"), token="demo-token", action="test").get_data(as_text=True)
    assert "连接成功" in page and "已保存这个令牌" in page
    # Regression: the box is empty after the test, and "save" kept the old token: what was tested is what is kept.
    assert config_mod.load(path).platform.token == "demo-token"
    assert post(client, "/setup/platform", url=server.url + "/", action="save").headers["Location"] == "/setup/company"
    assert config_mod.load(path).platform.token == "demo-token"
    assert "not-the-token" not in caplog.text and "demo-token" not in caplog.text

    # The company: the small shop's three departments, and routes that fit them.
    assert post(client, "/setup/company", template="shop").headers["Location"] == "/setup/staff"
    cfg = config_mod.load(path)
    assert {dep: sub for dep, (sub, _) in cfg.departments().items()} == {"orders": "shop", "finance": "shop", "tech": "shop"}
    assert daemon.cfg.departments().keys() == cfg.departments().keys()  # the daemon reloaded

    # Staff: a person in two departments, one with a phone to push to.
    answer = post(client, "/setup/staff", **{"orders:count": "0", "orders:staff-new-id": "001", "orders:staff-new-name": "李娜",
                                             "finance:count": "0", "finance:staff-new-id": "003", "finance:staff-new-name": "王芳",
                                             "action": "more"})
    assert answer.headers["Location"] == "/setup/staff"
    answer = post(client, "/setup/staff", **{"finance:count": "1", "finance:staff-0-id": "003", "finance:staff-0-name": "王芳",
                                             "finance:staff-0-on_duty": "on", "finance:staff-0-lead": "on",
                                             "finance:staff-0-push_add": "ntfy://ntfy.example/finance-desk", "action": "next"})
    assert answer.headers["Location"] == "/setup/sound"
    cfg = config_mod.load(path)
    people = {sid: person for sid, (_, person) in cfg.staff().items()}
    assert people["001"].name == "李娜" and people["003"].lead and people["003"].push == ("ntfy://ntfy.example/finance-desk",)

    assert post(client, "/setup/sound", action="next").headers["Location"] == "/setup/done"
    done = client.get("/setup/done").get_data(as_text=True)
    assert "3 个部门，2 名员工" in done
    # Regression: it said "ready" whatever was wrong; the tech department has nobody, so its alerts would go to no one.
    assert "还有问题要处理" in done and re.search(r"无人值班：[^<]*技术部", done) and "平台未连接" not in done
    assert "设置向导还没有完成" in client.get("/").get_data(as_text=True)
    # Regression: finishing in passing left the tech department's alerts to no one: it is said, and asked.
    refused = post(client, "/setup/done")
    assert refused.status_code == 400 and "仍然完成设置" in refused.get_data(as_text=True)
    assert post(client, "/setup/done", anyway="on").headers["Location"] == "/"
    dashboard = client.get("/").get_data(as_text=True)
    assert "设置向导还没有完成" not in dashboard and "设置完成" in dashboard

    # What the wizard wrote is the file check-config reads, comments and all.
    text = path.read_text(encoding="utf-8")
    assert comment in text and "# --- The shop platform this device listens to" in text
    assert yaml.safe_load(text)["platform"] == {**yaml.safe_load(text)["platform"], "url": server.url + "/", "token": "demo-token"}
    assert wait_until(lambda: daemon.store.reports.counts()["messages"] >= 1, 15)


def test_a_layout_that_does_not_fit_the_config_is_refused_and_changes_nothing(blank):
    daemon, app, path, _ = blank
    client = app.test_client()
    claim(client, daemon)
    before = path.read_text(encoding="utf-8")
    assert post(client, "/setup/company", template="nonsense").status_code == 400
    assert path.read_text(encoding="utf-8") == before


def test_the_set_up_asks_which_mandarin_voice_and_says_what_its_licence_allows(blank):
    daemon, app, path, _ = blank
    client = app.test_client()
    claim(client, daemon)
    page = client.get("/setup/sound").get_data(as_text=True)
    assert "仅许可非商业用途" in page and "企业可以使用" in page
    assert post(client, "/setup/sound", action="voice", voice="espeak").headers["Location"] == "/setup/sound"
    assert config_mod.load(path).speech.voices.zh == "espeak" and daemon.cfg.speech.voices.zh == "espeak"
    assert post(client, "/setup/sound", action="voice", voice="../../etc").status_code == 400


def test_the_sound_test_says_when_the_device_cannot_play(stub, tmp_path, run_daemon):
    """Regression: the page said "playing" when no sound card existed; the reason was only in the log."""
    setup = prepare(tmp_path, stub([]).url)
    text = setup.config_path.read_text(encoding="utf-8")
    setup.config_path.write_text(re.sub(r"(?m)^(  device:\s*)(null|default)\b", r"\1no-such-sound-card", text, count=1), encoding="utf-8")
    daemon = run_daemon(setup.config_path, real_outputs=True)
    assert daemon.cfg.speech.device == "no-such-sound-card"
    client = create_app(daemon.store, daemon).test_client()
    login(client, setup.password)
    answer = post(client, "/setup/sound", action="play")
    assert answer.headers["Location"] == "/setup/sound"
    page = client.get("/setup/sound").get_data(as_text=True)
    assert "设备没能播放" in page and "no-such-sound-card" in page and "正在播放" not in page


def test_an_unclaimed_device_gives_no_message_to_the_example_staff(blank):
    """Regression: before the wizard, messages went to the example company's people (a tech alert stayed with "007")."""
    daemon, app, _, server = blank
    assert wait_until(lambda: daemon.store.query("select count(*) as n from assignments")[0]["n"] == 1)
    assert daemon.store.query("select department, staff_id from assignments")[0] == {"department": "orders", "staff_id": None}
    claim(app.test_client(), daemon)
    server.platform.publish([{"id": "m-2", "type": "order.paid", "content": "客户李四已支付订单2"}])
    assert wait_until(lambda: daemon.store.query("select staff_id from assignments where message_id = 'm-2'") == [{"staff_id": "001"}])


def test_the_wizard_asks_where_the_shop_is_and_the_whole_device_keeps_that_zone(blank, monkeypatch):
    """Regression: a device on UTC listed the platform's 16:33 (+08:00) at 08:33 in reports while the shop read 16:33."""
    import os
    import time

    daemon, app, path, server = blank
    path.write_text(path.read_text(encoding="utf-8").replace("time_zone: Asia/Shanghai", 'time_zone: ""'), encoding="utf-8")
    monkeypatch.setenv("TZ", "UTC")  # as Raspberry Pi OS Lite images come
    time.tzset()
    assert daemon.reload()
    client = app.test_client()
    claim(client, daemon)
    page = client.get("/setup/platform").get_data(as_text=True)
    assert '<option value="Asia/Shanghai" selected>中国大陆（北京时间）</option>' in page and "香港" in page
    post(client, "/setup/platform", url=server.url, time_zone="Asia/Hong_Kong", action="save")
    assert config_mod.load(path).calendar.time_zone == "Asia/Hong_Kong"
    assert daemon.cfg.calendar.time_zone == "Asia/Hong_Kong" and os.environ["TZ"] == "Asia/Hong_Kong"
    answer = post(client, "/setup/platform", url=server.url, time_zone="Mars/Olympus", action="save")
    assert answer.status_code == 400 and "Mars/Olympus" in answer.get_data(as_text=True)
    assert config_mod.load(path).calendar.time_zone == "Asia/Hong_Kong"


def test_an_address_without_its_scheme_gets_the_one_people_mean():
    from speakerd.web.platform_test import with_scheme

    assert with_scheme("192.168.1.20:8000") == "http://192.168.1.20:8000"
    assert with_scheme("shop-server.local/api") == "http://shop-server.local/api"
    assert with_scheme("erp:8080") == "http://erp:8080"
    assert with_scheme("shop.example.com/api") == "https://shop.example.com/api"
    assert with_scheme("https://shop.example.com") == "https://shop.example.com"
