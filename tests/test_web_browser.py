"""The web page in a real browser: Debian's chromium, headless, driven by Selenium through chromedriver.

A person logs in, changes the poll interval and a department's staff, saves,
and the running daemon takes the new settings. The run saves screenshots of
the main pages to a temporary folder, or to $SPEAKERD_SCREENSHOTS: the docs'
pictures are refreshed with ``SPEAKERD_SCREENSHOTS=docs/screenshots .venv/bin/python -m
pytest tests/test_web_browser.py``, so the test run itself leaves the checkout as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from speakerd.device.password import password_file, set_password
from speakerd.ports import free_port
from tests.conftest import ROOT, fast_platform

from .helpers import wait_until

DOC_SHOTS = ROOT / "docs" / "screenshots"
SHOTS = Path(os.environ.get("SPEAKERD_SCREENSHOTS") or tempfile.mkdtemp(prefix="speakerd-shots-")).resolve()
PASSWORD = "office-desk-1"


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1280,1100"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def device(stub, write_config, run_daemon):
    from speakerd.stub.scenarios import office

    server = stub(office(30, seed=3))
    port = free_port()
    cfg = fast_platform(server.url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}"}
    cfg["display"] = {"enabled": True, "driver": "emulator"}
    path = write_config(cfg)
    set_password(path, PASSWORD)
    daemon = run_daemon(path, real_outputs=True)
    assert wait_until(lambda: daemon.store.reports.counts()["messages"] >= 20, 20)
    daemon.store.acks.acknowledge(daemon.store.query("select id from messages limit 1")[0]["id"], "button")
    return daemon, f"http://127.0.0.1:{port}"


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def log_in(driver, base):
    driver.get(base + "/")
    assert "/login" in driver.current_url
    shot(driver, "login")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button.primary").click()
    assert wait_until(lambda: driver.current_url.rstrip("/") == base)


def test_log_in_change_poll_interval_and_staff_and_the_daemon_reloads(browser, device):
    daemon, base = device
    log_in(browser, base)
    assert wait_until(lambda: "今日消息" in browser.page_source and "平台连接正常" in browser.page_source)
    assert wait_until(lambda: browser.execute_script(
        "const i = document.querySelector('img.panel'); return i && i.complete && i.naturalWidth") == 512)
    shot(browser, "dashboard")

    browser.get(base + "/settings#platform")
    field = browser.find_element(By.ID, "platform.poll_interval")
    field.clear()
    field.send_keys("0.7")
    browser.find_element(By.CSS_SELECTOR, "#platform button.primary").click()
    # A click does not wait for the page it loads.
    assert wait_until(lambda: "已保存，设备已按新设置运行" in browser.page_source)
    assert wait_until(lambda: daemon.cfg.platform.poll_interval == 0.7)

    form = browser.find_element(By.ID, "dep-orders")
    browser.execute_script("arguments[0].scrollIntoView()", form)
    form.find_element(By.NAME, "staff-1-on_duty").click()  # 陈伟 goes off duty
    form.find_element(By.NAME, "staff-new-id").send_keys("012")
    form.find_element(By.NAME, "staff-new-name").send_keys("林静")
    form.find_element(By.CSS_SELECTOR, "button.primary").click()
    assert wait_until(lambda: "已保存" in browser.page_source)
    assert wait_until(lambda: [(s.id, s.on_duty) for s in daemon.cfg.departments()["orders"][1].staff]
                      == [("001", True), ("002", False), ("012", True)])
    browser.get(base + "/settings")
    shot(browser, "settings")


def test_field_errors_show_in_the_form(browser, device):
    daemon, base = device
    log_in(browser, base)
    browser.get(base + "/settings#platform")
    field = browser.find_element(By.ID, "platform.poll_interval")
    field.clear()
    field.send_keys("0.01")
    browser.find_element(By.CSS_SELECTOR, "#platform button.primary").click()
    error = browser.find_element(By.CSS_SELECTOR, ".field.has-error .error")
    assert "不能小于 0.2" in error.text
    assert daemon.cfg.platform.poll_interval == 0.2


def test_reports_board_and_a_phone_sized_dashboard(browser, device):
    _, base = device
    log_in(browser, base)
    browser.get(base + "/reports?by=category")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.total")
    shot(browser, "reports")
    browser.get(base + "/board")
    assert "待处理" in browser.page_source
    shot(browser, "board")
    browser.set_window_size(390, 844)
    browser.get(base + "/")
    shot(browser, "dashboard-phone")
    too_wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1"
        " && !e.closest('.scroll')).map(e => e.tagName + '.' + e.className)")
    assert too_wide == []  # nothing but the scrolling table is wider than the phone's screen


# Elements wider than the screen (but inside a scrolling table), and labels or headers squeezed to a character a line.
UNFIT_FOR_A_PHONE = """
const found = [];
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0) continue;
  if (r.right > innerWidth + 1 && !e.closest('.scroll')) found.push('too wide: ' + e.tagName + '.' + e.className + '#' + e.id);
  if (['TH', 'H1', 'H2', 'BUTTON', 'LABEL', 'A'].includes(e.tagName) && e.innerText.trim().length > 1) {
    const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
    if (r.height > line * 3 && r.width < 40) found.push('a character a line: ' + e.tagName + ' ' + e.innerText.slice(0, 12));
  }
}
return found;
"""


def fits_a_phone(driver):
    return driver.execute_script(UNFIT_FOR_A_PHONE) == []


def test_every_staff_page_fits_a_phone(browser, device):
    """Regression: at 390 px the routes' and the funnel's headers stood one character a line."""
    _, base = device
    log_in(browser, base)
    browser.set_window_size(390, 844)
    for name, url in (("dashboard-phone", "/"), ("settings-phone", "/settings"), ("reports-phone", "/reports?by=category"),
                      ("funnel-phone", "/reports?by=funnel"), ("push-phone", "/push/add?who=staff:003"),
                      ("push-email-phone", "/push/add?who=staff:003&service=email")):
        browser.get(base + url)
        shot(browser, name)
        assert browser.execute_script(UNFIT_FOR_A_PHONE) == [], url


def test_the_wizard_on_a_phone_with_the_usual_mistakes(browser, blank_device):
    """A worker on a phone: an address typed without http://, a new token tested then saved, a company with nobody in
    it, a device without a sound card. Each step fits the screen and says in Chinese what happened."""
    daemon, base, server, setup = blank_device
    browser.set_window_size(390, 844)
    browser.get(base + "/")
    assert wait_until(lambda: browser.current_url.endswith("/setup"))
    browser.find_element(By.NAME, "code").send_keys(daemon.claim.code())
    for name in ("password", "again"):
        browser.find_element(By.NAME, name).send_keys(PASSWORD)
    assert fits_a_phone(browser)
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.endswith("/setup/platform"))

    url = browser.find_element(By.NAME, "url")
    url.clear()
    url.send_keys(server.url.removeprefix("http://"))
    browser.find_element(By.NAME, "token").send_keys("demo-token")
    click(browser, "button[value=test]")
    assert wait_until(lambda: "连接成功" in browser.page_source and "已保存这个令牌" in browser.page_source)
    assert fits_a_phone(browser)
    shot(browser, "setup-phone-2-platform")
    click(browser, "button[value=save]")  # the box is empty now: what was tested was kept
    assert wait_until(lambda: browser.current_url.endswith("/setup/company"))
    assert str(daemon.cfg.platform.token) == "demo-token" and daemon.cfg.platform.url == server.url

    click(browser, "input[value=shop]")
    assert fits_a_phone(browser)
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.endswith("/setup/staff"))
    assert fits_a_phone(browser)
    shot(browser, "setup-phone-4-staff")
    click(browser, "button[value=next]")  # nobody entered
    assert wait_until(lambda: browser.current_url.endswith("/setup/sound"))
    click(browser, "button[value=play]")
    heard = "本设备没有声卡" if setup.sound.startswith("no sound card") else "设备正在播放提示音和一句话"
    assert wait_until(lambda: heard in browser.page_source)
    assert fits_a_phone(browser)
    shot(browser, "setup-phone-5-sound")
    click(browser, "button[value=next]")
    assert wait_until(lambda: browser.current_url.endswith("/setup/done"))
    said = browser.find_element(By.ID, "still-wrong").text
    assert "无人值班" in said and "订单部" in said and "技术部" in said
    assert fits_a_phone(browser)
    shot(browser, "setup-phone-6-done")
    first = browser.find_element(By.ID, "anyway")
    click(browser, "button.primary")  # not ticked: asked again
    assert wait_until(lambda: replaced(first))  # the answer's page, not the box of the page before it
    assert browser.find_element(By.CSS_SELECTOR, "label.error #anyway").is_displayed() and "/setup/done" in browser.current_url
    click(browser, "#anyway")
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.rstrip("/") == base)
    assert fits_a_phone(browser)


def test_screenshots_are_where_the_readme_shows_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("dashboard", "settings"):
        assert f"docs/screenshots/{name}.png" in readme
        assert (DOC_SHOTS / f"{name}.png").exists()


@pytest.fixture
def blank_device(stub, run_daemon, tmp_path):
    """A fresh install: the shipped config on the stub, no web password, the real outputs."""
    from speakerd.cli.demo import prepare
    from speakerd.stub.scenarios import office

    server = stub(office(10, seed=5))
    setup = prepare(tmp_path / "device", server.url)
    password_file(setup.config_path).unlink()
    daemon = run_daemon(setup.config_path, real_outputs=True)
    return daemon, setup.web_url.rstrip("/"), server, setup


def replaced(element):
    """Whether ``element``'s page has given way to another (the browser has let go of it)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    return False


def click(driver, selector):
    element = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView()", element)
    element.click()


def test_the_wizard_from_a_blank_device_to_a_working_dashboard(browser, blank_device):
    daemon, base, server, setup = blank_device
    browser.get(base + "/")
    assert wait_until(lambda: browser.current_url.endswith("/setup"))
    assert "欢迎使用 speakerd" in browser.page_source
    code = daemon.claim.code()  # what the panel shows
    browser.find_element(By.NAME, "code").send_keys(code)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "again").send_keys(PASSWORD)
    shot(browser, "setup-1-claim")
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.endswith("/setup/platform"))

    # Only what the chosen kind of platform needs is asked for.
    assert browser.find_element(By.NAME, "token").is_displayed() and not browser.find_element(By.NAME, "consumer_key").is_displayed()
    click(browser, "input[value=woocommerce]")
    assert browser.find_element(By.NAME, "consumer_secret").is_displayed() and not browser.find_element(By.NAME, "token").is_displayed()
    click(browser, "input[value=speakerd]")
    url = browser.find_element(By.NAME, "url")
    url.clear()
    url.send_keys(server.url)
    browser.find_element(By.NAME, "token").send_keys("demo-token")
    click(browser, "button[value=test]")
    assert wait_until(lambda: "连接成功" in browser.page_source)
    shot(browser, "setup-2-platform")
    browser.find_element(By.NAME, "token").send_keys("demo-token")  # a password field is not filled again
    click(browser, "button[value=save]")
    assert wait_until(lambda: browser.current_url.endswith("/setup/company"))

    shot(browser, "setup-3-company")
    click(browser, "input[value=shop]")
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.endswith("/setup/staff"))
    browser.find_element(By.NAME, "orders:staff-new-id").send_keys("001")
    browser.find_element(By.NAME, "orders:staff-new-name").send_keys("李娜")
    browser.find_element(By.NAME, "finance:staff-new-id").send_keys("003")
    browser.find_element(By.NAME, "finance:staff-new-name").send_keys("王芳")
    browser.find_element(By.NAME, "tech:staff-new-id").send_keys("007")
    browser.find_element(By.NAME, "tech:staff-new-name").send_keys("吴昊")
    shot(browser, "setup-4-staff")
    click(browser, "button[value=next]")
    assert wait_until(lambda: browser.current_url.endswith("/setup/sound"))

    audio = setup.config_path.parent / "audio"
    before = set(audio.glob("*.wav")) if audio.exists() else set()
    click(browser, "button[value=play]")
    # Regression: with no sound card the page said it was playing; it says nothing can be heard, and what to do.
    heard = "本设备没有声卡" if setup.sound.startswith("no sound card") else "设备正在播放提示音和一句话"
    assert wait_until(lambda: heard in browser.page_source)
    if setup.sound.startswith("WAV"):  # no sound card here: announcements are files
        assert wait_until(lambda: audio.exists() and len(set(audio.glob("*.wav")) - before) >= 1, 60)
    shot(browser, "setup-5-sound")
    click(browser, "button[value=next]")
    assert wait_until(lambda: browser.current_url.endswith("/setup/done"))
    assert "3 个部门，3 名员工" in browser.page_source
    shot(browser, "setup-6-done")
    click(browser, "button.primary")
    assert wait_until(lambda: browser.current_url.rstrip("/") == base)
    assert wait_until(lambda: "设置完成" in browser.page_source)
    assert daemon.cfg.departments().keys() == {"orders", "finance", "tech"}
    # The dashboard is live: the messages the platform sends now appear without a reload.
    assert wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#messages tbody tr[data-id]")) >= 3, 40)


def test_add_a_subsystem_department_and_category_then_read_it_in_english(browser, device):
    daemon, base = device
    log_in(browser, base)
    browser.get(base + "/settings#structure")
    form = browser.find_element(By.ID, "add-subsystem")
    for name, value in (("id", "wholesale"), ("name", "批发"), ("department_id", "wholesale-sales"), ("department_name", "批发销售部")):
        form.find_element(By.NAME, name).send_keys(value)
    click(browser, "#add-subsystem button")
    assert wait_until(lambda: "wholesale-sales" in daemon.cfg.departments())
    form = browser.find_element(By.ID, "add-department")
    form.find_element(By.NAME, "id").send_keys("wholesale-service")
    form.find_element(By.NAME, "name").send_keys("批发客服部")
    browser.execute_script("arguments[0].value = 'wholesale'", form.find_element(By.NAME, "subsystem"))
    click(browser, "#add-department button")
    assert wait_until(lambda: daemon.cfg.departments().get("wholesale-service", ("",))[0] == "wholesale")
    form = browser.find_element(By.ID, "add-category")
    form.find_element(By.NAME, "id").send_keys("invoice")
    form.find_element(By.NAME, "name").send_keys("发票")
    form.find_element(By.NAME, "keywords").send_keys("发票, 开票")
    click(browser, "#add-category button")
    assert wait_until(lambda: "invoice" in daemon.cfg.categories)
    # A further source: only the boxes its kind needs are shown.
    form = browser.find_element(By.ID, "add-source")
    assert form.find_element(By.NAME, "token").is_displayed() and not form.find_element(By.NAME, "consumer_key").is_displayed()
    click(browser, "#add-source input[value=inbound]")
    assert form.find_element(By.NAME, "secret").is_displayed() and not form.find_element(By.NAME, "url").is_displayed()
    form.find_element(By.NAME, "name").send_keys("erp")
    form.find_element(By.NAME, "token").send_keys("erp-token-long-enough-1")
    click(browser, "#add-source button.primary")
    assert wait_until(lambda: "erp" in daemon.cfg.sources)
    click(browser, "nav.top .language button")
    assert wait_until(lambda: "Company structure" in browser.page_source and "Settings" in browser.title)
    shot(browser, "settings-en")


def test_upload_a_sound_play_it_and_a_hostile_upload_changes_nothing(browser, blank_device, tmp_path):
    import wave

    import numpy as np

    daemon, base, _, setup = blank_device
    set_password(setup.config_path, PASSWORD)
    daemon.claim.claimed()
    log_in(browser, base)
    sound = tmp_path / "bell.wav"
    with wave.open(str(sound), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((np.sin(np.arange(8000) / 16000 * 2 * np.pi * 700) * 12000).astype("<i2").tobytes())
    browser.get(base + "/settings#sounds")
    form = browser.find_element(By.ID, "upload-sound")
    form.find_element(By.NAME, "file").send_keys(str(sound))
    form.find_element(By.NAME, "name").send_keys("doorbell")
    browser.execute_script("arguments[0].value = 'finance'", form.find_element(By.NAME, "category"))
    click(browser, "#upload-sound button")
    assert wait_until(lambda: daemon.cfg.categories["finance"].chime.endswith("/sounds/doorbell.wav"))
    shot(browser, "settings-sounds")

    audio = setup.config_path.parent / "audio"
    before = set(audio.glob("*.wav")) if audio.exists() else set()
    play = browser.find_element(By.ID, "play-sound")
    browser.execute_script("arguments[0].value = arguments[1]", play.find_element(By.NAME, "sound"), daemon.cfg.categories["finance"].chime)
    click(browser, "#play-sound button")
    heard = "本设备没有声卡" if setup.sound.startswith("no sound card") else "设备正在播放 doorbell"
    assert wait_until(lambda: heard in browser.page_source)
    if setup.sound.startswith("WAV"):
        assert wait_until(lambda: audio.exists() and len(set(audio.glob("*.wav")) - before) >= 1, 30)

    config_before = setup.config_path.read_text(encoding="utf-8")
    hostile = tmp_path / "invoice.mp3"
    hostile.write_bytes(b"#!/bin/sh\nrm -rf /\n" * 50)
    browser.get(base + "/settings#sounds")
    form = browser.find_element(By.ID, "upload-sound")
    form.find_element(By.NAME, "file").send_keys(str(hostile))
    form.find_element(By.NAME, "name").send_keys("doorbell")
    click(browser, "#upload-sound button")
    assert wait_until(lambda: "这不是 WAV、MP3 或 OGG 声音文件" in browser.page_source)
    assert setup.config_path.read_text(encoding="utf-8") == config_before
    stored = setup.config_path.parent / "sounds" / "doorbell.wav"
    with wave.open(str(stored)) as w:
        assert w.getnframes() > 0  # the sound uploaded before is still the one kept
