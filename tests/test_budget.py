"""The speaking budget on a clock the test moves: a speaker that takes real (simulated) time to say each sentence.

The store, ingest, the attention policy and the output worker are the daemon's
own; the speech output is a stand-in that plays silence of the announcement's
length into the real-time sink, so the FakeClock moves as a real speaker would,
and the office's events keep arriving while it speaks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from speakerd import config as config_mod
from speakerd.clock import FakeClock
from speakerd.delivery.attention import Attention
from speakerd.delivery.budget import short_sentence, waiting_sentence
from speakerd.delivery.dispatch import OutputWorker
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.outputs.interface import Notice
from speakerd.outputs.speech import spoken_text
from speakerd.outputs.speech.duration import CHIME, SUMMARY_CHIME, seconds_to_say
from speakerd.outputs.speech.pace import Pace
from speakerd.outputs.speech.realtime import RealTimeSink
from speakerd.store import Job, Store, Waiting
from speakerd.stub.scenarios import office

from .conftest import EXAMPLE

RATE = 8000


class OfficeClock(FakeClock):
    """Moves on in small steps while the speaker plays, letting the office's events arrive at their own time."""

    def __init__(self) -> None:
        super().__init__()
        self.on_step = lambda: None

    def sleep(self, seconds: float) -> None:
        while seconds > 0:
            step = min(0.25, seconds)
            self.advance(seconds=step)
            seconds -= step
            self.on_step()


class TimedSpeech:
    """Says each notice's sentence in the time it takes (silence of that length into the real-time sink), paced as the
    speech output paces it (:class:`~speakerd.outputs.speech.pace.Pace`: a breath between back-to-back announcements,
    decided at its end, a summary in a run without its chime)."""

    name = "speech"

    def __init__(self, cfg, clock) -> None:
        self.cfg, self.clock = cfg, clock
        self.sink = RealTimeSink(clock=clock)
        self.pace = Pace(cfg.speech, clock)
        self.heard: list[tuple[float, Notice, str]] = []  # (started, notice, sentence)

    def ready_in(self, notice: Notice) -> float:
        return self.pace.ready_in(notice)

    def deliver(self, notice: Notice) -> None:
        category = self.cfg.categories.get(notice.category)
        sentence = spoken_text(notice, category, self.cfg.speech.max_chars)
        in_a_run = self.pace.follows_the_last(notice)
        if self.pace.breath_for(notice):
            self.pace.breathe()
        self.heard.append((self.clock.time(), notice, sentence))
        self.sink.open(RATE)
        chime = (0.0 if in_a_run else SUMMARY_CHIME) if notice.covers else CHIME
        self.sink.write(np.zeros(int(seconds_to_say(sentence, chime) * RATE), np.float32))
        self.sink.close(notice.message_id)
        self.pace.ended()

    def close(self) -> None:
        pass


@pytest.fixture
def office_day(tmp_path):
    def run(events: list[tuple[float, dict]], heard_by=None, muted=None, **speech):
        cfg = config_mod.load(EXAMPLE)
        cfg = dataclasses.replace(cfg, speech=dataclasses.replace(cfg.speech, **speech))
        clock = OfficeClock()
        store = Store(tmp_path / f"day-{len(list(tmp_path.iterdir()))}.db", clock)
        ingest, output = Ingest(cfg, store), TimedSpeech(cfg, clock)
        worker = OutputWorker(output, store, lambda: cfg, attention=Attention(store, lambda: cfg, heard_by=heard_by))
        start, waiting, arrived = clock.time(), sorted(events, key=lambda e: e[0]), {}
        if muted:
            store.mutes.mute("department", muted, start + 86400)

        def arrive() -> None:
            due = [raw for at, raw in waiting if start + at <= clock.time()]
            if due:
                del waiting[:len(due)]
                ingest(Batch(due, "c"), ["speech"])
                arrived.update({raw["id"]: clock.time() for raw in due if isinstance(raw, dict) and isinstance(raw.get("id"), str)})

        clock.on_step = arrive
        while True:
            arrive()
            if worker._step():
                continue
            upcoming = [start + waiting[0][0]] if waiting else []
            due = store.outbox.next_due("speech")
            upcoming += [due] if due is not None else []
            if not upcoming:
                break
            clock.advance(seconds=max(0.0, min(upcoming) - clock.time()))
        owed = {r["message_id"] for r in store.query("select message_id from outbox where output = 'speech'")}
        store.close()
        return {m: at for m, at in arrived.items() if m in owed}, output.heard

    return run


def first_heard(heard):
    """{message id: when it was first heard, alone or within a summary}."""
    out: dict[str, float] = {}
    for at, notice, _ in heard:
        for message_id in (notice.message_id, *notice.covers):
            out.setdefault(message_id, at)
    return out


def spoken_events(count: int, every: float) -> list[tuple[float, dict]]:
    """The stub's office mix, one event each ``every`` seconds (those that are never spoken are left out of the counts)."""
    return [(i * every, e) for i, e in enumerate(office(count))]


def test_a_quiet_office_hears_every_message_alone_and_in_full(office_day):
    arrived, heard = office_day(spoken_events(20, every=30.0))
    assert all(not notice.covers for _, notice, _ in heard)
    assert all("还有" not in sentence and "待处理" not in sentence for _, _, sentence in heard)
    assert set(first_heard(heard)) == set(arrived) and len(arrived) >= 10


def test_a_flood_of_mixed_categories_is_heard_in_time_urgent_first_and_nothing_is_lost(office_day):
    events = spoken_events(240, every=1.0)
    events.append((60.5, {"id": "tech-1", "type": "monitor.down", "content": "支付服务不可用", "data": {}}))
    arrived, heard = office_day(events, heard_within=15)
    told = first_heard(heard)
    assert set(told) == set(arrived), "a message owed to the speaker was never heard"
    ids = [m for _, notice, _ in heard for m in (notice.message_id, *notice.covers)]
    assert len(ids) == len(set(ids)), "a message was told twice"
    longest = max(seconds_to_say(sentence) for _, _, sentence in heard)
    assert told["tech-1"] - arrived["tech-1"] <= longest  # critical: only the sentence under way goes first
    lags = sorted(told[m] - arrived[m] for m in told)
    assert lags[len(lags) // 2] <= 8 and lags[int(0.9 * len(lags))] <= 15, lags
    assert lags[-1] <= 15 + 2 * longest, lags[-5:]  # never a sentence cut: at worst two critical ones go before
    assert any("待处理，请看屏幕" in sentence for _, _, sentence in heard)  # folded into summaries
    assert any(sentence.startswith("又有") for _, _, sentence in heard)  # and in a run, only what is new


def test_without_the_budget_the_same_flood_falls_minutes_behind(office_day):
    """What the office met before: every message in full, one by one, the queue growing all the while."""
    arrived, heard = office_day(spoken_events(240, every=1.0), heard_within=0)
    told = first_heard(heard)
    assert set(told) == set(arrived)
    lags = sorted(told[m] - arrived[m] for m in told)
    assert lags[len(lags) // 2] > 60 and all(not notice.covers or "过去" in sentence for _, notice, sentence in heard)


@pytest.mark.parametrize("elsewhere", ["a speaker online", "muted"])
def test_a_summary_leaves_out_the_messages_this_speaker_would_not_tell(office_day, tmp_path, elsewhere):
    """A hub skips each message whose department's speaker is online when its turn comes, but its summaries counted
    every message waiting: at a peak the office heard the orders department's messages from their speaker and again
    in the hub's summaries ('有6笔订单预警、3笔退款申诉等45条待处理'), and they were never skipped. So it was with a
    department muted, and with an order burst's summary."""
    import sqlite3

    if elsewhere == "muted":
        arrived, heard = office_day(spoken_events(240, every=1.0), muted="orders")
    else:
        online = lambda department: (["orders-speaker"], []) if department == "orders" else ([], [])  # noqa: E731
        arrived, heard = office_day(spoken_events(240, every=1.0), heard_by=online)
    with sqlite3.connect(tmp_path / "day-0.db") as db:
        orders = {m for m, in db.execute("select message_id from outbox where output = 'speech' and department = 'orders'")}
        others = {m for m, in db.execute("select message_id from outbox where output = 'speech' and department != 'orders'")}
    orders -= others  # a message for two departments is still told here for the other
    told = first_heard(heard)
    assert len(orders) > 50 and any(notice.covers for _, notice, _ in heard)
    assert not orders & set(told), sorted(orders & set(told))[:5]
    assert set(told) == others


def test_a_late_message_with_nothing_else_waiting_is_told_short_not_in_a_summary_of_one(tmp_path):
    """Late with nothing else waiting (the speaker was busy, or the device restarted), a message was said as
    '有1笔财务待处理，请看屏幕': a summary of one, which tells less than its own short form in the same time."""
    from speakerd.delivery.decision import Action

    from .test_speech import notice

    cfg, clock = config_mod.load(EXAMPLE), FakeClock()
    with Store(tmp_path / "one.db", clock) as store:
        late = notice(received_at=clock.iso())
        clock.advance(seconds=60)
        decision = Attention(store, lambda: cfg).decide("speech", late)
    assert decision.action is Action.DELIVER and decision.notice.spoken == "财务部王芳，财务，5000元"


def test_short_sentence_says_who_what_and_the_key_figure():
    notice = Notice(message_id="m-1", content="客户张三已支付订单1234", category="order", category_name="订单", priority="normal",
                    department="orders", department_name="订单部", subsystem="mall", subsystem_name="商城", staff_id="005",
                    staff_name="李娜", data={"amount": 2948.0})
    assert short_sentence(notice) == "订单部李娜，订单，2948元"
    assert short_sentence(Notice(**{**notice.__dict__, "staff_name": None, "data": {}})) == "订单部005号，订单"
    assert short_sentence(Notice(**{**notice.__dict__, "data": {"amount": 12345678.9}})) == "订单部李娜，订单，12345678.9元"


def test_the_waiting_are_counted_by_category_once_each_with_money_in_笔():
    cfg = config_mod.load(EXAMPLE)

    def waiting(n, category, amount=True, department="orders"):
        return Waiting(Job(f"m-{n}", department, "speech", 0), category, 1, "2026-11-23T02:00:00.000+00:00", 10, amount)

    items = [waiting(1, "refund"), waiting(2, "refund"), waiting(2, "refund", department="service"), waiting(3, "member", amount=False),
             waiting(4, "refund")]
    assert waiting_sentence(items, cfg) == "有3笔退款申诉、1条会员待处理，请看屏幕"


def test_a_summary_names_the_urgent_categories_first_and_one_in_a_run_says_only_what_is_new():
    """Before, a summary named the two largest categories: at a peak the orders, while the withdrawals waiting for
    review were only in its total ('有4笔订单、2条会员等7条…'). And every summary of a run repeated
    '待处理，请看屏幕' (1.5 s) to an office that had been told so a few seconds before; in a run the most urgent
    category is named, the rest are in the total."""
    cfg = config_mod.load(EXAMPLE)

    def waiting(n, category, priority, amount=True):
        return Waiting(Job(f"m-{n}", "orders", "speech", 0), category, priority, "2026-11-23T02:00:00.000+00:00", 10, amount)

    items = [waiting(n, "order", 1) for n in range(4)] + [waiting(10, "member", 1, amount=False)] * 2
    items += [waiting(20, "finance", 2), waiting(21, "finance", 2)]
    assert waiting_sentence(items, cfg) == "有2笔财务、4笔订单等7条待处理，请看屏幕"
    assert waiting_sentence(items, cfg, again=True) == "又有2笔财务等7条"
    two = [waiting(20, "finance", 2), waiting(1, "order", 1)]
    assert waiting_sentence(two, cfg, again=True) == "又有1笔财务等2条"  # the one not named is in the total


def test_at_a_peak_a_message_told_alone_is_told_short_even_when_the_whole_sentence_would_be_in_time(office_day):
    """A long member merge (10 s) told in full during a lull of the peak held up the urgent messages arriving while it
    played; a minute after the last summary the office hears whole sentences again."""
    merge = {"type": "member.merged", "content": "会员合并：黄磊的手机号与老账号已合并，积分和优惠券一并转入新账号，请核对"}
    events = spoken_events(60, every=1.0) + [(110.0, {**merge, "id": "lull-1"}), (250.0, {**merge, "id": "quiet-1"})]
    arrived, heard = office_day(events)
    said = {notice.message_id: sentence for _, notice, sentence in heard}
    summaries = [at for at, notice, _ in heard if notice.covers]
    assert summaries and arrived["lull-1"] - max(at for at in summaries if at < arrived["lull-1"]) < 60
    assert "积分" not in said["lull-1"] and said["lull-1"].startswith("会员部")
    assert "积分" in said["quiet-1"]
