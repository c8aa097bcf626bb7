"""The page's languages: every text has its Chinese, the catalogs are current, and a person can switch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from speakerd.device.password import set_password
from speakerd.web import create_app
from tests.conftest import ROOT, fast_platform

from .helpers import WEB_PASSWORD, csrf, login

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_text_of_the_page_has_its_chinese_and_the_compiled_catalog_is_current():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "translations"), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def page(stub, write_config, run_daemon):
    def start(language=None):
        server = stub([{"id": "m-1", "type": "finance.withdrawal", "content": "马丽申请提现500元", "data": {"amount": 500}}])
        overrides = fast_platform(server.url)
        if language:
            overrides["web"] = {"enabled": False, "language": language}
        path = write_config(overrides)
        set_password(path, WEB_PASSWORD)
        daemon = run_daemon(path)
        client = create_app(daemon.store, daemon).test_client()
        login(client)
        return client
    return start


def labels(html):
    """The page's own words: the HTML without the messages table, names from config and the language switch."""
    html = re.sub(r"(?s)<tbody>.*?</tbody>|<option.*?</option>|<button[^>]*lang=.*?</button>|<code>.*?</code>|value=\"[^\"]*\"", "", html)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"'[^'\n]*'|&#39;.*?&#39;", "", text)  # a quoted example of a Chinese sentence, in a setting's help


def test_chinese_by_default_and_one_person_can_switch_to_english(page):
    client = page()
    assert "最新消息" in client.get("/").get_data(as_text=True)
    answer = client.post("/language", data={"csrf_token": csrf(client, "/"), "lang": "en", "next": "/settings"})
    assert answer.headers["Location"] == "/settings"
    settings = client.get("/settings").get_data(as_text=True)
    assert '<html lang="en">' in settings and "Time between polls" in settings and "Poll interval (e.g. 30s, 5m, 1h)" in settings
    dashboard = client.get("/").get_data(as_text=True)
    assert "Latest messages" in dashboard and "Platform connected" in dashboard
    names = config_words(client.application.extensions["speakerd"]["device"].cfg) + ["马丽申请提现500元", "中文"]
    for url in ("/", "/settings", "/reports?by=category", "/board", "/setup/platform"):
        words = labels(client.get(url).get_data(as_text=True))
        for name in sorted(names, key=len, reverse=True):
            words = words.replace(name, "")
        assert not CJK.findall(words), (url, re.findall(r".{0,30}[\u4e00-\u9fff]+.{0,30}", words))


def config_words(cfg):
    """What the shop named itself (departments, people, categories, sentences): shown as written in any language."""
    out = [sub.name for sub in cfg.subsystems.values()] + [dep.name for _, dep in cfg.departments().values()]
    out += [person.name for _, person in cfg.staff().values()]
    for cat in cfg.categories.values():
        out += [cat.name, cat.speech or "", cat.repeat.text, cat.burst.text, *cat.keywords, *cat.patterns]
    return [w for w in out if w]


def test_web_language_sets_the_device_default(page):
    client = page("en")
    assert "Latest messages" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf(client, "/"), "lang": "zh", "next": "/"})
    assert "最新消息" in client.get("/").get_data(as_text=True)


def test_an_unknown_language_or_a_foreign_next_changes_nothing(page):
    client = page()
    answer = client.post("/language", data={"csrf_token": csrf(client, "/"), "lang": "xx", "next": "https://evil.example/"})
    assert "evil.example" not in answer.headers["Location"]
    assert "最新消息" in client.get("/").get_data(as_text=True)


def test_check_configs_reasons_are_said_in_the_pages_language(page):
    client = page()
    form = client.get("/settings").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    refused = client.post("/settings/section/platform", data={"csrf_token": csrf(client, "/settings"), "version": version,
                                                             "platform.poll_interval": "0.01", "platform.timeout": "lots"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "不能小于 0.2" in text and "必须是数字" in text
    client.post("/language", data={"csrf_token": csrf(client, "/"), "lang": "en", "next": "/"})
    refused = client.post("/settings/section/platform", data={"csrf_token": csrf(client, "/settings"), "version": version,
                                                             "platform.poll_interval": "0.01"})
    assert "must be at least 0.2" in refused.get_data(as_text=True)
