"""When the next announcement of a run is decided: at the end of its breath, less the time the voice takes to begin."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from speakerd import config as config_mod
from speakerd.clock import FakeClock, iso
from speakerd.delivery.decision import Action, Decision
from speakerd.delivery.dispatch import OutputWorker
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.outputs.interface import Notice
from speakerd.outputs.speech.pace import LEAD, Pace
from speakerd.store import Store

from .conftest import EXAMPLE


def notice(received, priority="high") -> Notice:
    return Notice(message_id="m-1", content="马丽申请提现500元", category="finance", category_name="财务", priority=priority,
                  department="finance", department_name="财务部", subsystem="mall", subsystem_name="商城", received_at=iso(received))


@pytest.fixture
def run():
    """A pace whose last announcement has just ended, and a notice that waited for it."""
    clock = FakeClock()
    settings = config_mod.load(EXAMPLE).speech
    pace = Pace(settings, clock)
    waited = clock.now()
    clock.advance(seconds=6)  # the announcement it waited for
    pace.ended()
    return pace, clock, settings, waited


def test_in_a_run_the_next_is_decided_at_the_breath_s_end_less_the_voice_s_lead(run):
    pace, clock, settings, waited = run
    assert pace.ready_in(notice(waited)) == pytest.approx(settings.pause_between - LEAD)
    clock.advance(seconds=settings.pause_between)
    assert pace.ready_in(notice(waited)) == 0.0


def test_a_critical_one_and_one_after_a_silence_are_decided_at_once(run):
    pace, clock, settings, waited = run
    assert pace.ready_in(notice(waited, "critical")) == 0.0
    assert pace.ready_in(notice(clock.now() + timedelta(seconds=0.1))) == 0.0  # came after the last ended: no run


def test_the_lead_is_learnt_from_the_voice_and_never_more_than_the_breath(run):
    pace, _, settings, waited = run
    for _ in range(30):
        pace.learn(0.05)  # a fast voice: decided nearly at the breath's end
    assert pace.ready_in(notice(waited)) == pytest.approx(settings.pause_between - 0.05, abs=0.01)
    for _ in range(30):
        pace.learn(5.0)  # a voice slower than the breath: decided at once, the whole breath to make the clause
    assert pace.ready_in(notice(waited)) == 0.0


class PacedOutput:
    """Asks dispatch to wait ``wait`` seconds before the first notice; records when the policy decided each."""

    name = "speech"

    def __init__(self, wait: float) -> None:
        self.wait = wait
        self.delivered: list[Notice] = []

    def ready_in(self, notice: Notice) -> float:
        wait, self.wait = self.wait, 0.0
        return wait

    def deliver(self, notice: Notice) -> None:
        self.delivered.append(notice)

    def close(self) -> None:
        pass


def test_dispatch_asks_the_policy_only_when_a_paced_output_is_ready(tmp_path):
    """Before, the next announcement of a run was decided as the last ended: one arriving during the breath waited
    for a whole announcement more."""
    cfg = config_mod.load(EXAMPLE)
    clock = FakeClock()
    store = Store(tmp_path / "speakerd.db", clock)
    Ingest(cfg, store)(Batch([{"id": "w-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"}], "c"), ["speech"])
    decided: list[float] = []

    class Recording:
        def tells(self, output, notice):
            return True

        def decide(self, output, notice):
            decided.append(clock.time())
            return Decision(Action.DELIVER, notice=notice)

    output = PacedOutput(wait=1.2)
    worker = OutputWorker(output, store, lambda: cfg, attention=Recording())
    start = clock.time()
    assert worker._step()
    store.close()
    assert [t - start for t in decided] == [pytest.approx(1.2)] and [n.message_id for n in output.delivered] == ["w-1"]



def test_a_notice_the_output_would_not_tell_is_decided_at_once_without_a_breath(tmp_path):
    """A hub skips the messages its departments' speakers announce: each waited a breath first, and at a peak the
    hub's queue of skips fell behind by a second and a half per message."""
    cfg = config_mod.load(EXAMPLE)
    finance = dataclasses.replace(cfg.categories["finance"], announce="none")
    cfg = dataclasses.replace(cfg, categories={**cfg.categories, "finance": finance})
    clock = FakeClock()
    store = Store(tmp_path / "speakerd.db", clock)
    Ingest(cfg, store)(Batch([{"id": "w-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"}], "c"), ["speech"])
    output = PacedOutput(wait=1.2)
    worker = OutputWorker(output, store, lambda: cfg)
    start = clock.time()
    assert worker._step()
    state = store.outbox.state_of("w-1", store.query("select department from assignments where message_id = 'w-1'")[0]["department"], "speech")
    store.close()
    assert clock.time() == start and not output.delivered and state is not None and state[0] == "done"


def test_a_wall_clock_stepped_back_never_makes_the_breath_longer(run):
    """The breath was measured on the wall clock: stepped back a day (NTP, or set by hand), the next announcement
    waited a day."""
    pace, clock, settings, _ = run
    clock.step(days=-1)
    received = clock.now()  # after the step: before the last announcement ended, on the wall clock
    assert pace.ready_in(notice(received)) <= settings.pause_between
    start = clock.monotonic()
    pace.breathe()
    assert clock.monotonic() - start <= settings.pause_between
