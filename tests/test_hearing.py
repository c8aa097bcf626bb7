"""A device that no longer hears the broker notices it from its own status, sent again and not heard back."""

from __future__ import annotations

from speakerd.clock import FakeClock
from speakerd.fleet.hearing import DEAF_AFTER, ECHO_SECONDS, Hearing
from speakerd.fleet.topics import encode


class Probe:
    """A Hearing on a fake clock, with what it sent and told kept."""

    def __init__(self) -> None:
        self.clock, self.up = FakeClock(), True
        self.sent: list[str] = []
        self.told: list[tuple[bool, float]] = []
        self.hearing = Hearing(self.sent.append, lambda: self.up, lambda h, since: self.told.append((h, since)),
                               self.clock.monotonic, self.clock.time)

    def echo(self, mark: str) -> bytes:
        return encode("status", state="online", echo=mark)

    def after(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)
        self.hearing.tick()


def test_an_echo_heard_back_keeps_the_device_hearing():
    p = Probe()
    for _ in range(10):
        p.after(ECHO_SECONDS)
        p.hearing.heard(p.echo(p.sent[-1]))
    assert p.told == [] and p.hearing.hearing and len(p.sent) == 10


def test_an_echo_that_stays_away_is_said_once_with_the_time_it_went_out_and_hearing_again_is_said():
    p = Probe()
    p.hearing.tick()
    went_out = p.clock.time()
    p.after(DEAF_AFTER - 1)
    assert p.told == []
    p.after(1)
    assert p.told == [(False, went_out)] and p.hearing.state() == {"hearing": "deaf", "deaf_since": went_out}
    p.after(ECHO_SECONDS)
    p.hearing.heard(p.echo(p.sent[-1]))
    assert p.told[-1] == (True, 0.0) and p.hearing.state() == {"hearing": "ok"}


def test_while_deaf_each_further_wait_is_told_again_with_the_first_time():
    """Each is a reason to rejoin the session again; the time stays when it began."""
    p = Probe()
    p.hearing.tick()
    went_out = p.clock.time()
    for _ in range(3):
        for _ in range(int(DEAF_AFTER // ECHO_SECONDS)):
            p.after(ECHO_SECONDS)
    assert [t for t in p.told] == [(False, went_out)] * 3


def test_a_will_a_stale_status_or_another_runs_echo_is_not_hearing():
    p, other = Probe(), Probe()
    p.hearing.tick()
    other.hearing.tick()
    for payload in (encode("status", state="offline"), p.echo(other.sent[-1]), b"garbage", encode("status", state="online")):
        p.hearing.heard(payload)
    p.after(DEAF_AFTER)
    assert p.told and p.told[-1][0] is False


def test_a_broker_that_is_away_is_the_links_trouble_not_deafness():
    p = Probe()
    p.hearing.tick()
    p.up = False
    for _ in range(10):
        p.after(ECHO_SECONDS)
    assert p.told == [] and len(p.sent) == 1


class Told:
    def __init__(self) -> None:
        self.said: list[tuple[str, str, str]] = []

    def failing(self, subject, kind, reason, logged=False):
        self.said.append(("failing", subject, kind))

    def ok(self, subject):
        self.said.append(("ok", subject, ""))


def test_the_hub_raises_a_speaker_that_says_it_is_deaf_and_its_recovery():
    from speakerd.fleet.presence import Presence

    health = Told()
    presence = Presence("hub", FakeClock().time, health)
    status = dict(state="online", role="speaker", version="1", departments=["finance"])
    presence.update("office", "fin", encode("status", **status))
    presence.update("office", "fin", encode("status", **status, hearing="deaf", deaf_since=1.5e9))
    assert presence.snapshot()[0]["hearing"] == "deaf" and presence.snapshot()[0]["deaf_since"] == 1.5e9
    presence.update("office", "fin", encode("status", **status, hearing="ok"))
    assert health.said == [("ok", "device:fin", ""), ("failing", "device:fin", "device_deaf"), ("ok", "device:fin", "")]


def test_a_status_with_a_strange_hearing_is_refused():
    import pytest

    from speakerd.fleet.topics import BadPayload, decode, status_of

    for bad in ({"hearing": "maybe"}, {"hearing": "deaf", "deaf_since": "yesterday"}, {"hearing": "deaf", "deaf_since": float("inf")}):
        with pytest.raises(BadPayload):
            status_of(decode(encode("status", state="online", **bad)))
