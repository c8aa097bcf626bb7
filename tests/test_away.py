"""A speaker back from offline: what the hub announced meanwhile is stored and shown, and said once, as a count."""

from __future__ import annotations

from pathlib import Path

from speakerd import config as config_mod
from speakerd.clock import FakeClock
from speakerd.delivery.away import SETTLE, FromHub
from speakerd.intake.ingest import Ingest
from speakerd.store import Store

EXAMPLE = Path(__file__).parent.parent / "config.yaml"


def withdrawal(n):
    return {"id": f"w-{n}", "type": "finance.withdrawal", "content": f"马丽申请提现{500 + n}元", "data": {"withdrawal_id": f"wd-{n}"}}


def test_covered_messages_are_shown_not_said_and_counted_once_the_backlog_is_in(tmp_path):
    clock, said = FakeClock(), []
    cfg = config_mod.load(EXAMPLE)
    with Store(tmp_path / "speakerd.db", clock) as store:
        ingest = Ingest(cfg, store)
        hub = FromHub(lambda: ingest, lambda: ["speech", "display"], lambda: None, said.append, clock)
        for n in range(1, 4):
            hub.receive(withdrawal(n), "finance", "003", "finance", covered=True)
            clock.advance(seconds=1)
        hub.receive(withdrawal(3), "finance", "003", "finance", covered=True)  # sent again by the broker: no second count
        hub.check()
        assert said == []  # the backlog may still be coming in
        clock.advance(seconds=SETTLE)
        hub.check()
        hub.check()
        assert said == ["本音箱离线期间，主机已播报3条消息，请查看屏幕。"]
        hub.receive(withdrawal(4), "finance", "003", "finance")  # the speaker is back: told as ever
        clock.advance(seconds=SETTLE)
        hub.check()
        outputs = store.query("select message_id, output from outbox order by message_id, output")
    assert len(said) == 1
    assert [(r["message_id"], r["output"]) for r in outputs] == [("w-1", "display"), ("w-2", "display"), ("w-3", "display"),
                                                                 ("w-4", "display"), ("w-4", "speech")]


def test_a_hub_says_what_it_promised_even_if_the_speaker_came_back_meanwhile(tmp_path):
    """Sent to the speaker as covered, a message must be said by the hub: the speaker counts it as heard and says nothing."""
    from speakerd.delivery.attention import Action, Attention

    from .test_speech import notice

    clock = FakeClock()
    cfg = config_mod.load(EXAMPLE)
    with Store(tmp_path / "speakerd.db", clock) as store:
        policy = Attention(store, lambda: cfg, heard_by=lambda department: (["fin"], []), promised=lambda m: m == "w-1")
        promised = policy.decide("speech", notice(message_id="w-1", received_at=clock.iso()))
        other = policy.decide("speech", notice(message_id="w-2", received_at=clock.iso()))
    assert promised.action is Action.DELIVER
    assert (other.action, other.reason) == (Action.SKIP, "announced by speaker fin")
