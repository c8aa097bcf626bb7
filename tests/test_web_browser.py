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
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from speakerd.demo import free_port
from speakerd.web import auth
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
    auth.set_password(path, PASSWORD)
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
    assert "must be at least 0.2" in error.text
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


def test_screenshots_are_where_the_readme_shows_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("dashboard", "settings"):
        assert f"docs/screenshots/{name}.png" in readme
        assert (DOC_SHOTS / f"{name}.png").exists()
