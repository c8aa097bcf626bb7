"""Attacks from the platform's side: each keeps the daemon running, loses nothing, and says what happened once."""

from __future__ import annotations

import pytest
import yaml

from speakerd.errors import PlatformError
from speakerd.intake.platform import PlatformClient
from tests.conftest import EXAMPLE

from .hostile import HostilePlatform, batch


def test_a_redirect_to_another_host_is_refused_not_followed():
    """Regression: a redirect was followed and the other host's answer taken as platform data."""
    with HostilePlatform(lambda q: batch([{"id": "evil-1", "type": "order.paid", "content": "不该收到"}], "e1")) as elsewhere:
        with HostilePlatform(lambda q: (302, {"Location": elsewhere.url + "/v1/messages"}, b"")) as platform:
            client = PlatformClient(platform.url, "token-77", timeout=2)
            with pytest.raises(PlatformError) as refused:
                client.fetch(None, 10)
    assert refused.value.kind == "not_found" and "redirects to" in refused.value.reason and elsewhere.url in refused.value.reason
    assert elsewhere.requests == []  # the token never went there


def test_after_a_long_outage_the_platform_is_asked_again_within_about_30_seconds(tmp_path):
    """Regression: the retries backed off to 5 minutes, so the office waited minutes after the platform was back."""
    from speakerd import config as config_mod
    from speakerd.health.alerts import Health
    from speakerd.intake.poller import Poller
    from speakerd.ports import free_port
    from speakerd.store import Store

    shipped = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    shipped["platform"] = {"url": f"http://127.0.0.1:{free_port()}", "timeout": 0.5}
    cfg = config_mod.parse_text(yaml.safe_dump(shipped, allow_unicode=True))
    assert cfg.platform.poll_interval == 5 and cfg.platform.retry_max == 30  # the defaults a shop runs with
    with Store(tmp_path / "speakerd.db") as store:
        poller = Poller(cfg, store, Health(store, lambda *a: None, 60, 900), lambda: None, lambda: [], lambda: None)
        waits = [poller.poll_once() for _ in range(12)]
        poller.close()
    assert max(waits) <= 30 and min(waits[6:]) >= 15
    assert len(set(waits[6:])) > 1  # jittered: devices that lost the platform together do not all return at once


def test_a_platform_log_that_restarts_is_read_again_from_its_start_without_repeating_anything(write_config, run_daemon, recording):
    """Regression: after the platform restarted its log, the saved cursor pointed past its end and nothing came again."""
    from speakerd.stub import StubServer
    from tests.conftest import fast_platform

    from ..helpers import wait_until

    first = [{"id": f"m-{i}", "type": "order.paid", "content": f"客户已支付订单{i}"} for i in range(10)]
    server = StubServer(first).start()
    port = server.port
    daemon = run_daemon(write_config(fast_platform(server.url)))
    assert wait_until(lambda: len([n for n in recording.notices if n.message_id.startswith("m-")]) == 10, 10)
    assert daemon.store.meta.cursor == "10"
    server.stop()
    later = first[:3] + [{"id": "m-new-1", "type": "order.paid", "content": "重启后的新订单"}]  # a redeployed platform: a new, shorter log
    server = StubServer(later, port=port).start()
    try:
        assert wait_until(lambda: any(n.message_id == "m-new-1" for n in recording.notices), 15)
        assert wait_until(lambda: any(n.category == "tech" and "重新开始" in n.content for n in recording.notices), 5)
        platform_notices = [n.message_id for n in recording.notices if n.message_id.startswith("m-")]
        assert sorted(platform_notices) == sorted([f"m-{i}" for i in range(10)] + ["m-new-1"])  # nothing told twice
        assert daemon.store.meta.cursor == "4"
    finally:
        server.stop()


def test_a_message_resent_with_changed_content_keeps_the_first_and_notes_the_change(tmp_path):
    """Regression: a resent id with changed content was dropped without a trace."""
    from speakerd import config as config_mod
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.store import Store

    with Store(tmp_path / "speakerd.db") as store:
        ingest = Ingest(config_mod.load(EXAMPLE), store)
        ingest(Batch([{"id": "m-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"}], "1"), [])
        for _ in range(3):  # resent, changed, three times: one note
            result = ingest(Batch([{"id": "m-1", "type": "finance.withdrawal", "content": "马丽申请提现50000元"}], "2"), [])
            assert result.duplicates == 1 and not result.new
        assert store.query("select content from messages where id = 'm-1'")[0]["content"] == "马丽申请提现500元"
        notes = store.reports.quarantined()
        assert len(notes) == 1 and notes[0]["platform_id"] == "m-1" and "changed content" in notes[0]["reason"]
        ingest(Batch([{"id": "m-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"}], "3"), [])
        assert len(store.reports.quarantined()) == 1  # an unchanged resend is just a repeat


def _poller(tmp_path, url, store, alerts):
    from speakerd import config as config_mod
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.poller import Poller

    shipped = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    shipped["platform"] = {"url": url, "timeout": 2, "long_poll": 0, "poll_interval": 5}
    cfg = config_mod.parse_text(yaml.safe_dump(shipped, allow_unicode=True))
    health = Health(store, alerts.append, 30, 900)
    ingest = Ingest(cfg, store)
    return Poller(cfg, store, health, lambda: ingest, lambda: ["log"], lambda: None), health


@pytest.mark.parametrize("header, at_least", [("17", 17), ("Wed, 21 Oct 2099 07:28:00 GMT", 3600)])
def test_http_429_is_rate_limiting_and_retry_after_is_honoured(tmp_path, header, at_least):
    """Regression: 429 was 'unexpected HTTP 429' (garbage) and the retry came after the usual backoff, Retry-After ignored."""
    from speakerd.store import Store

    with HostilePlatform(lambda q: (429, {"Retry-After": header}, b"slow down")) as platform, Store(tmp_path / "s.db") as store:
        poller, health = _poller(tmp_path, platform.url, store, [])
        wait = poller.poll_once()
        poller.close()
        trouble = health.troubles["platform"]
    assert trouble.kind == "rate_limited" and "HTTP 429" in trouble.reason
    assert at_least <= wait <= 3600


def test_a_cursor_that_never_moves_is_noticed_and_not_polled_in_a_busy_loop(tmp_path):
    """Regression: a platform answering messages with the same 'next' was asked again at once, forever, silently."""
    from speakerd.store import Store

    answer = batch([{"id": f"s-{i}", "type": "order.paid", "content": "同一批"} for i in range(100)], "7")
    with HostilePlatform(lambda q: answer) as platform, Store(tmp_path / "s.db") as store:
        store.meta.set("cursor", "7")
        poller, health = _poller(tmp_path, platform.url, store, [])
        waits = [poller.poll_once() for _ in range(3)]
        poller.close()
        trouble = health.troubles["platform log"]
    assert waits == [5, 5, 5] and trouble.kind == "stuck" and "'next' does not move on" in trouble.reason


def test_two_replicas_with_different_epochs_are_one_trouble_and_polling_backs_off(tmp_path):
    """Regression: two replicas answering in turn caused 13,423 polls and 44 critical 'log restarted' alerts in 45 s."""
    from speakerd.store import Store

    turn = iter(range(10**6))

    def answer(query):
        n = next(turn)
        epoch = "A" if n % 2 == 0 else "B"
        return batch([{"id": f"{epoch}-{n}", "type": "order.paid", "content": f"副本{epoch}"}], str(n + 1), epoch=epoch)

    alerts = []
    with HostilePlatform(answer) as platform, Store(tmp_path / "s.db") as store:
        poller, health = _poller(tmp_path, platform.url, store, alerts)
        waits = [poller.poll_once() for _ in range(8)]
        poller.close()
        restarts = [a for a in alerts if a["type"] == "tech.platform.notice"]
        trouble = health.troubles["platform log"]
    assert len(restarts) == 1  # the first change may be a real restart: told once; the flips after it are not
    assert trouble.kind == "epoch_flapping"
    assert sum(1 for w in waits if w >= 2.5) >= 3  # every flip backs off instead of asking again at once
