"""/metrics in the Prometheus text format: checked by Debian's promtool, growing as messages arrive, behind its own token."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from speakerd.ports import free_port

from .conftest import fast_platform
from .helpers import claimed, wait_until

TOKEN = "scrape-token-7f3a"


def scrape(base, token=TOKEN):
    return requests.get(base + "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=5)


def value(text, name, **labels):
    shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}\{{{shown}\}} (\S+)$" if labels else rf"^{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


@pytest.fixture
def device(stub, write_config, run_daemon):
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"},
                   {"id": "m-2", "type": "finance.withdrawal", "content": "马丽申请提现500元"}])
    port = free_port()
    cfg = fast_platform(server.url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "metrics_token": TOKEN}
    daemon = run_daemon(claimed(write_config(cfg)))
    base = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: daemon.store.meta.cursor == "2")
    return daemon, server, base


def test_the_metrics_pass_promtool_and_grow_as_messages_arrive(device):
    daemon, server, base = device
    answer = scrape(base)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    text = answer.text
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/dev-setup installs Debian's prometheus")
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert value(text, "speakerd_messages_total", category="order") == 1
    assert value(text, "speakerd_waiting_messages", department="finance") == 1
    assert value(text, "speakerd_source_up", source="platform") == 1
    assert value(text, "process_resident_memory_bytes") > 10_000_000
    assert 'speakerd_info{version="' in text
    server.platform.publish([{"id": "m-3", "type": "order.paid", "content": "客户李四已支付订单2"}])
    assert wait_until(lambda: value(scrape(base).text, "speakerd_messages_total", category="order") == 2)
    daemon.store.acks.acknowledge("m-2", "web")
    assert value(scrape(base).text, "speakerd_waiting_messages", department="finance") is None


def test_the_metrics_need_their_token_and_are_off_without_one(device):
    daemon, _, base = device
    assert scrape(base, token=None).status_code == 401
    assert scrape(base, token="wrong").status_code == 401
    assert TOKEN not in scrape(base).text
    path = Path(daemon.config_path)
    path.write_text(path.read_text(encoding="utf-8").replace(TOKEN, ""), encoding="utf-8")
    assert daemon.reload()
    assert scrape(base).status_code == 404
