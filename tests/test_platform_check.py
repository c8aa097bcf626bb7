"""speakerd platform-check against the stub (which keeps the contract) and against stub modes that break one rule each."""

from __future__ import annotations

import requests

from speakerd.cli import main

from .test_dedupe import order


def fault(server, mode):
    requests.post(f"{server.url}/admin/fault", json={"mode": mode}, headers={"Authorization": "Bearer demo-token"}, timeout=5)


def run(server, capsys):
    code = main(["platform-check", server.url, "--token", "demo-token", "--timeout", "3"])
    return code, capsys.readouterr().out


def test_the_stub_keeps_the_contract(stub, capsys):
    server = stub([order(f"m-{n}", order_id=str(n)) for n in range(120)])
    code, out = run(server, capsys)
    assert code == 0, out
    assert "✗" not in out and "120 条消息都能使用" in out and "all 120 messages are usable" in out
    assert "长轮询：空回答保持了" in out and "a request with no token is refused (HTTP 401" in out
    assert out.rstrip().endswith(f"passed: {server.url}")


def test_a_platform_that_takes_any_token_fails(stub, capsys):
    server = stub([order("m-1")])
    fault(server, "open")
    code, out = run(server, capsys)
    assert code == 1 and "✗ 没有令牌的请求被拒绝（HTTP 200，应为 401）" in out


def test_a_platform_that_ignores_the_limit_fails(stub, capsys):
    server = stub([order(f"m-{n}", order_id=str(n)) for n in range(5)])
    fault(server, "nolimit")
    code, out = run(server, capsys)
    assert code == 1 and "✗ limit=1 时回答 5 条" in out


def test_unusable_messages_and_a_reused_id_are_named(stub, capsys):
    server = stub([order("m-1"), {"type": "order.paid", "content": "没有编号"}, {**order("m-1"), "content": "另一个内容"}])
    code, out = run(server, capsys)
    assert code == 1 and "1 messages cannot be used: ?: missing id" in out and "ids sent again with other content: m-1" in out


def test_an_address_nobody_answers_is_said_in_words(capsys):
    from speakerd.ports import free_port

    code = main(["platform-check", f"http://127.0.0.1:{free_port()}", "--token", "t", "--timeout", "1"])
    out = capsys.readouterr().out
    assert code == 1 and "无法访问平台" in out and "Traceback" not in out
