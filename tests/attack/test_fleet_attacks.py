"""A fleet that trusts no one: bad and oversized payloads, a stolen client id, a speaker claiming what it was not given."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from speakerd.fleet.topics import Topics, encode

from ..helpers import wait_until
from ..test_fleet import PASSWORDS, SITE, Fleet, broker, online, order, withdrawal  # noqa: F401 - broker is a fixture

TOPICS = Topics("speakerd", SITE)


@pytest.fixture
def fleet(write_config, broker):  # noqa: F811
    f = Fleet(write_config, broker)
    yield f
    f.stop_all()


def client(fleet, user, client_id=None, clean=True):
    """A raw MQTT client with a device's credentials, as an attacker holding them would connect."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"raw-{user}", protocol=mqtt.MQTTv5)
    c.username_pw_set(user, PASSWORDS[user])
    c.connect("127.0.0.1", fleet.broker.port, clean_start=clean)
    c.loop_start()
    return c


def test_bad_payloads_are_refused_and_the_hub_keeps_hearing(fleet, stub, caplog):
    """Regression: a status without state, departments not a list or an ack id with a lone surrogate raised in the hub's
    handler; never acknowledged, twenty of them filled mosquitto's in-flight window and the hub heard nothing more."""
    caplog.set_level(logging.INFO)
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1)]).url)
    assert wait_until(lambda: hub.store.acks.message("w-1") is not None)
    raw = client(fleet, "fin")
    bad = [(TOPICS.status("fin"), encode("status", role="speaker")),
           (TOPICS.status("fin"), encode("status", state="online", role="speaker", departments="finance")),
           (TOPICS.ack_request("fin"), b'{"v": 1, "kind": "ack", "id": "\\ud800", "tx": "1"}'),
           (TOPICS.ack_request("fin"), encode("ack", id=["w-1"], tx="2")),
           (TOPICS.ack_request("fin"), encode("future", id="w-1"))]
    for _ in range(10):
        for topic, payload in bad:
            raw.publish(topic, payload, qos=1).wait_for_publish(5)
    raw.publish(TOPICS.ack_request("fin"), encode("ack", id="w-1", tx="good"), qos=1).wait_for_publish(5)
    assert wait_until(lambda: hub.store.acks.message("w-1")["acked_at"] is not None, 20)
    refusals = [r for r in caplog.records if r.name.startswith("speakerd.fleet") and r.levelno >= logging.WARNING]
    assert len(refusals) < 12  # once per kind a minute, not once per payload
    raw.loop_stop()


def test_an_oversized_payload_is_refused_by_the_link_and_bounded_by_the_broker(fleet, stub):
    """Regression: a 24 MB retained status took the hub to 608 MB. The broker the installer sets up bounds packets
    (max_packet_size); a broker set up otherwise may not, so the link refuses what is past the bound and acknowledges it."""
    from speakerd.fleet.broker import conf_text

    assert "max_packet_size 1048576" in conf_text(fleet.broker.folder, 1883)
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1)]).url)
    assert wait_until(lambda: hub.store.acks.message("w-1") is not None)
    acked = []
    message = mqtt.MQTTMessage(mid=7, topic=TOPICS.status("fin").encode())
    message.payload, message.qos = b"x" * (2 * 1024 * 1024), 1
    link = hub.fleet.hub.link
    link._message(type("Client", (), {"ack": lambda self, mid, qos: acked.append(mid)})(), None, message)
    assert acked == [7] and all(d["device"] != "fin" for d in hub.fleet.hub.presence.snapshot())


def test_another_devices_credentials_cannot_take_over_a_speakers_session(fleet, stub):
    """Regression: connecting with fin's client id (clean start) under ord's credentials wiped fin's queued messages."""
    fleet.start("fin", "speaker", departments=["finance"])
    server = stub([])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert online(hub, "fin")
    fin_id = fleet.daemons["fin"].fleet.speaker.link.client._client_id.decode()
    fleet.stop("fin")
    server.platform.publish([withdrawal(1)])
    assert wait_until(lambda: hub.store.query("select count(*) as n from outbox where output = 'fleet' and state = 'done'")[0]["n"] == 1)
    thief = client(fleet, "ord", client_id=fin_id, clean=True)
    assert wait_until(thief.is_connected)
    thief.disconnect()
    thief.loop_stop()
    fleet.start("fin", "speaker", departments=["finance"])
    assert wait_until(lambda: [n.message_id for n in fleet.outputs["fin"]["screen"].notices] == ["w-1"], 20)  # its queue kept


def test_a_speaker_claiming_a_department_it_was_not_given_does_not_silence_the_hub(fleet, stub, caplog):
    """Regression: a speaker claiming tech made the hub stay silent on a critical tech alert that nobody heard."""
    fleet.start("ord", "speaker", departments=["orders"])
    hub = fleet.start("hub", "hub", platform_url=stub([]).url)
    assert online(hub, "ord")
    liar = client(fleet, "ord", client_id="ord-2")
    liar.publish(TOPICS.status("ord"), encode("status", state="online", role="speaker", site=SITE, device="ord",
                                              departments=["orders", "tech", "finance"]), qos=1, retain=True).wait_for_publish(5)
    assert wait_until(lambda: "claims tech, finance, which it is not enrolled for" in caplog.text)
    assert hub.fleet.hub.speakers_of("tech") == ([], []) and hub.fleet.hub.speakers_of("orders")[0] == ["ord"]
    liar.loop_stop()


def test_a_speaker_cannot_acknowledge_another_departments_messages(fleet, stub):
    """Regression: ids are sequential, and the hub acknowledged whatever a speaker asked for."""
    ord_ = fleet.start("ord", "speaker", departments=["orders"])
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1), order(1)]).url)
    assert wait_until(lambda: fleet.said("ord") == ["o-1"], 20)
    ord_.fleet.speaker.request_ack("w-1")
    ord_.fleet.speaker.request_ack("o-1")
    assert wait_until(lambda: hub.store.acks.message("o-1")["acked_at"] is not None)
    assert hub.store.acks.message("w-1")["acked_at"] is None


def test_a_hub_that_stops_hearing_says_so_and_hears_again_once_its_store_keeps_messages(fleet, stub, monkeypatch, caplog, capsys):
    """Regression: messages held back (a store that could not keep them) filled the broker's in-flight window; the hub
    heard nothing more, not even its speakers' acknowledgements, while its link, ``status`` and ``fleet`` looked fine."""
    from speakerd.cli import main
    from speakerd.fleet.hearing import DEAF_AFTER, ECHO_SECONDS
    from speakerd.store import StoreError

    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1)]).url)
    part = hub.fleet.hub
    assert wait_until(lambda: hub.store.acks.message("w-1") is not None and part.hearing.last_heard is not None)
    ahead = [0.0]
    real_clock = part.hearing.clock
    part.hearing.clock = lambda: real_clock() + ahead[0]  # the daemon's loop keeps ticking it; the test moves it on

    def locked(message_id):
        raise StoreError("database is locked")

    monkeypatch.setattr(hub.store.acks, "departments_of", locked)
    raw = client(fleet, "fin")
    for n in range(25):
        raw.publish(TOPICS.ack_request("fin"), encode("ack", id="w-1", tx=str(n)), qos=1).wait_for_publish(5)
    assert wait_until(lambda: caplog.text.count("not handled now") >= 20)
    sent = part.hearing.echoes_sent
    ahead[0] += ECHO_SECONDS
    assert wait_until(lambda: part.hearing.echoes_sent > sent)  # an echo went out after the window filled
    ahead[0] += DEAF_AFTER
    assert wait_until(lambda: not part.hearing.hearing)
    assert "hearing" in {t["subject"] for t in hub.health.snapshot()["troubles"]}
    hub.device_state.write_heartbeat(["speech"])
    capsys.readouterr()
    assert main(["fleet", "-c", hub.config_path]) == 0
    assert "online NOT HEARING since" in capsys.readouterr().out
    main(["status", "-c", hub.config_path])
    said = capsys.readouterr().out
    assert "trouble    : hearing: nothing has come from the broker" in said and "hub hub ONLINE" in said and "NOT HEARING since" in said

    monkeypatch.undo()  # the store keeps messages again: rejoining the session brings back what was held
    ahead[0] += ECHO_SECONDS + DEAF_AFTER
    assert wait_until(lambda: hub.store.acks.message("w-1")["acked_at"] is not None, 20)
    ahead[0] += ECHO_SECONDS
    assert wait_until(lambda: part.hearing.hearing, 20)
    raw.loop_stop()
