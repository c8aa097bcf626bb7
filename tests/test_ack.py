"""Acknowledge links: signed and expiring tokens, a page that acknowledges only on its button."""

import socket

import pytest
import requests

from speakerd.outputs.push import ack_links
from speakerd.ports import free_port

from .conftest import fast_platform
from .helpers import WITHDRAWAL, claimed, wait_until, with_targets

SECRET = "s" * 64


def test_token_round_trip_and_its_failures():
    token = ack_links.make_token(SECRET, "m-000123", 3600, now=1000)
    assert ack_links.verify(SECRET, token, now=1000 + 3599) == "m-000123"
    with pytest.raises(ack_links.AckError, match="expired"):
        ack_links.verify(SECRET, token, now=1000 + 3601)
    with pytest.raises(ack_links.AckError, match="not valid"):
        ack_links.verify("other" * 13, token, now=1000)
    forged = ack_links.make_token(SECRET, "m-999", 3600, now=1000).split(".")[0] + "." + ".".join(token.split(".")[1:])
    with pytest.raises(ack_links.AckError, match="not valid"):
        ack_links.verify(SECRET, forged, now=1000)
    with pytest.raises(ack_links.AckError, match="incomplete"):
        ack_links.verify(SECRET, "garbage", now=1000)
    assert SECRET not in token


def test_push_carries_a_link_that_acknowledges_on_the_device(stub, write_config, real_daemon, receiver):  # noqa: F811
    port = free_port()
    server = stub([WITHDRAWAL])
    cfg = with_targets(server.url, receiver.port)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "public_url": f"http://127.0.0.1:{port}"}
    d = real_daemon(claimed(write_config(cfg)))
    assert wait_until(lambda: receiver.kinds("json"))
    payload = receiver.kinds("json")[0]
    link = payload["ack_url"]
    assert link.startswith(f"http://127.0.0.1:{port}/ack/")
    assert payload["message"].endswith(f"确认已处理或转交：{link}")

    page = requests.get(link, timeout=5)  # what a chat app's link preview does
    assert page.status_code == 200 and "张三申请提现5000元" in page.text and ">确认已处理</button>" in page.text
    assert page.headers["X-Frame-Options"] == "DENY" and "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert d.store.query("select acked_at from messages where id = 'm-w1'")[0]["acked_at"] is None

    done = requests.post(link, timeout=5)
    assert done.status_code == 200 and "已确认" in done.text
    row = d.store.query("select acked_at, acked_via from messages where id = 'm-w1'")[0]
    assert row["acked_at"] and row["acked_via"] == "push link"
    assert "已经确认过了" in requests.post(link, timeout=5).text

    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    bad = requests.get(tampered, timeout=5)
    assert bad.status_code == 403 and "无效" in bad.text


def test_no_public_url_means_no_link(stub, write_config, real_daemon, receiver):  # noqa: F811
    server = stub([WITHDRAWAL])
    real_daemon(write_config(with_targets(server.url, receiver.port)))
    assert wait_until(lambda: receiver.kinds("json"))
    assert "ack_url" not in receiver.kinds("json")[0] and "确认已处理" not in receiver.kinds("json")[0]["message"]


def test_port_in_use_is_logged_and_the_daemon_runs(stub, write_config, run_daemon, recording, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = stub([WITHDRAWAL])
        cfg = fast_platform(server.url)
        cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}"}
        run_daemon(write_config(cfg))
        assert recording.wait_for(1)
    assert f"web: cannot listen on 127.0.0.1:{port}" in caplog.text
