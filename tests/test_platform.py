"""The client against the real stub over loopback HTTP: each failure gets its kind and a clear reason."""

import logging
import socket

import pytest
import requests

from speakerd.errors import PlatformError
from speakerd.intake.platform import PlatformClient, safe_url
from speakerd.stub.scenarios import office

TOKEN = "demo-token"


def fault(server, mode, count=0, seconds=0):
    r = requests.post(f"{server.url}/admin/fault", json={"mode": mode, "count": count, "seconds": seconds},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    r.raise_for_status()


def test_fetch_pages_through_the_log_with_the_cursor(stub):
    server = stub(office(30))
    client = PlatformClient(server.url, TOKEN, timeout=2)
    first = client.fetch(None, 10)
    second = client.fetch(first.next, 100)
    assert len(first.messages) == 10 and first.next == "10"
    assert len(first.messages) + len(second.messages) == len(server.platform.log)
    assert client.fetch(second.next, 100).messages == []


def test_long_poll_returns_as_soon_as_an_event_arrives(stub):
    import threading

    server = stub([])
    client = PlatformClient(server.url, TOKEN, timeout=2)
    threading.Timer(0.3, server.platform.publish, [[{"id": "m-1", "content": "客户张三下单"}]]).start()
    batch = client.fetch(None, 10, wait=10)
    assert [m["id"] for m in batch.messages] == ["m-1"]


@pytest.mark.parametrize(
    "mode, kind, words",
    [
        ("401", "auth", "check platform.token"),
        ("404", "not_found", "check platform.url"),
        ("500", "server", "HTTP 500"),
        ("garbage", "garbage", "not JSON"),
    ],
)
def test_platform_faults_are_named(stub, mode, kind, words):
    server = stub(office(5))
    fault(server, mode, count=1)
    with pytest.raises(PlatformError) as info:
        PlatformClient(server.url, TOKEN, timeout=2).fetch(None, 10)
    assert info.value.kind == kind and words in info.value.reason
    assert PlatformClient(server.url, TOKEN, timeout=2).fetch(None, 10).messages  # the fault was one request long


def test_garbage_body_is_kept_for_quarantine(stub):
    server = stub([])
    fault(server, "garbage", count=1)
    with pytest.raises(PlatformError) as info:
        PlatformClient(server.url, TOKEN, timeout=2).fetch(None, 10)
    assert b"502 Bad Gateway" in info.value.body


def test_slow_answer_is_a_timeout(stub):
    server = stub([])
    fault(server, "slow", count=1, seconds=2)
    with pytest.raises(PlatformError) as info:
        PlatformClient(server.url, TOKEN, timeout=0.5).fetch(None, 10)
    assert info.value.kind == "unreachable" and "no answer" in info.value.reason


def test_closed_port_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PlatformError) as info:
        PlatformClient(f"http://127.0.0.1:{port}", TOKEN, timeout=1).fetch(None, 10)
    assert info.value.kind == "unreachable" and "refused the connection" in info.value.reason


def test_unknown_host_is_a_network_fault():
    with pytest.raises(PlatformError) as info:
        PlatformClient("http://speakerd-no-such-host.invalid", TOKEN, timeout=1).fetch(None, 10)
    assert info.value.kind == "network"


@pytest.mark.parametrize(
    "body, words",
    [
        (b"[1, 2]", "not a JSON object"),
        (b'{"messages": "x", "next": "1"}', "no 'messages' list"),
        (b'{"messages": []}', "no usable 'next'"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_wrong_shapes_are_garbage(body, words):
    from speakerd.intake.platform import _parse_body

    with pytest.raises(PlatformError) as info:
        _parse_body(body)
    assert info.value.kind == "garbage" and words in info.value.reason


def test_token_never_appears_in_errors_or_logs(stub, caplog):
    secret = "tok-VERY-SECRET-123"
    server = stub([], token="other")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PlatformError) as info:
        PlatformClient(f"http://user:{secret}@{server.url[7:]}", secret, timeout=1).fetch(None, 10)
    assert secret not in str(info.value) and secret not in caplog.text
    assert safe_url(f"http://u:{secret}@host:8/v1") == "http://host:8/v1"


def test_a_platform_trickling_its_answer_is_a_slow_platform_not_a_hang(monkeypatch):
    """Regression (slow-loris): headers, then one byte every so often, kept a poll open with no log and no alert."""
    import threading
    import time

    from speakerd.intake import platform as platform_mod

    monkeypatch.setattr(platform_mod, "DEADLINE_MARGIN", 0.5)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b" ")
            except OSError:
                break
            time.sleep(0.3)  # well inside every socket timeout
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    client = PlatformClient(f"http://127.0.0.1:{server.getsockname()[1]}", "t", timeout=1.0)
    began = time.monotonic()
    try:
        with pytest.raises(PlatformError) as info:
            client.fetch(None, 10)
    finally:
        stop.set()
        server.close()
    assert info.value.kind == "slow" and "did not finish its answer within 1.5 s" in info.value.reason
    assert time.monotonic() - began < 5
