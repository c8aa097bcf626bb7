"""Chat group robots: the person is @-mentioned, a refusal is not taken for delivery, 20 a minute per robot, nothing lost."""

from __future__ import annotations

import pytest

from speakerd import config as config_mod
from speakerd.clock import FakeClock
from speakerd.errors import NotYet, OutputError
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.outputs.interface import notice_from_row
from speakerd.outputs.push import PushOutput
from speakerd.outputs.push.robots import LIMIT, Robot
from speakerd.store import Store

from .helpers import DING_TOKEN, WITHDRAWAL, wait_until, with_targets

MOBILE = "13800138000"


def with_mobile(cfg):
    cfg["subsystems"]["headquarters"]["departments"]["finance"]["staff"][0]["mobile"] = MOBILE
    return cfg


def test_a_dingtalk_group_robot_mentions_the_person_on_duty(stub, write_config, real_daemon, receiver):
    server = stub([WITHDRAWAL])
    real_daemon(write_config(with_mobile(with_targets(server.url, receiver.port, finance=[f"dingtalk://{DING_TOKEN}/"]))))
    assert wait_until(lambda: receiver.kinds("dingtalk"))
    ding = receiver.kinds("dingtalk")[0]
    assert ding["at"] == {"atMobiles": [MOBILE], "isAtAll": False}
    assert ding["text"]["content"].endswith(f"@{MOBILE}")  # DingTalk rings only when the text carries the @ too
    assert "负责人：003 王芳" in ding["text"]["content"]


def test_a_wecom_group_robot_gets_the_mobile_in_its_mention_list(stub, write_config, real_daemon, receiver):
    server = stub([WITHDRAWAL])
    real_daemon(write_config(with_mobile(with_targets(server.url, receiver.port, finance=["wecombot://wecom-key-123"]))))
    assert wait_until(lambda: receiver.kinds("wecom"))
    wecom = receiver.kinds("wecom")[0]
    assert wecom["key"] == "wecom-key-123" and wecom["text"]["mentioned_mobile_list"] == [MOBILE]
    assert wecom["text"]["content"].startswith("财务｜财务部\n张三申请提现5000元")


def test_a_robots_refusal_is_not_taken_for_delivery(stub, write_config, real_daemon, receiver):
    """Regression: DingTalk answers an over-limit message with HTTP 200 and errcode 130101; it counted as sent and was lost."""
    receiver.refuse = 1
    server = stub([WITHDRAWAL])
    daemon = real_daemon(write_config(with_targets(server.url, receiver.port, finance=[f"dingtalk://{DING_TOKEN}/"])))
    assert wait_until(lambda: receiver.kinds("dingtalk"), timeout=20)  # sent again after the refusal
    assert len(receiver.kinds("refused")) == 1 and len(receiver.kinds("dingtalk")) == 1
    assert wait_until(lambda: daemon.store.query("select state from push_log where recipient = 'department:finance'")[0]["state"] == "sent")


@pytest.fixture
def robot_office(write_config, receiver, tmp_path):
    """A real store on a fake clock, the finance robot on the receiver, and 50 withdrawals to push."""
    cfg = config_mod.load(write_config(with_mobile(with_targets("http://127.0.0.1:9", receiver.port, finance=[f"dingtalk://{DING_TOKEN}/"]))))
    clock = FakeClock()
    store = Store(tmp_path / "s.db", clock)
    Ingest(cfg, store)(Batch([{**WITHDRAWAL, "id": f"w-{i:02d}", "content": f"员工{i}申请提现"} for i in range(50)], "1"), ["push"])
    yield store, clock, PushOutput(store, lambda: cfg), cfg
    store.close()


def push_all(store, output, cfg, ids):
    """Deliver each as dispatch would; return the ids held back and when the robot has room again."""
    held, until = [], 0.0
    for message_id in ids:
        notice = notice_from_row(store.outbox.notice_row(message_id, "finance"), cfg)
        try:
            output.deliver(notice)
        except NotYet as wait:
            held.append(message_id)
            until = wait.until
    return held, until


def test_a_robot_gets_at_most_20_a_minute_and_the_rest_go_together_next(robot_office, receiver):
    store, clock, output, cfg = robot_office
    ids = [f"w-{i:02d}" for i in range(50)]
    held, until = push_all(store, output, cfg, ids)
    assert len(receiver.kinds("dingtalk")) == LIMIT and held == ids[LIMIT:]
    assert 59 < until - clock.time() <= 61
    clock.advance(seconds=61)
    assert push_all(store, output, cfg, held) == ([], 0.0)  # the first takes all the others along
    sent = receiver.kinds("dingtalk")
    assert len(sent) == LIMIT + 1 and "另有29条" in sent[-1]["text"]["content"]
    assert all(f"员工{i}申请提现" in sent[-1]["text"]["content"] for i in range(LIMIT, 50))
    states = store.query("select state, count(*) as n from push_log where recipient = 'department:finance' group by state")
    assert states == [{"state": "sent", "n": 50}]
    staff_pushes = store.query("select count(*) as n from push_log where recipient = 'staff:003' and state = 'sent'")[0]["n"]
    assert staff_pushes == 50  # her own target is not a robot: never held


def test_a_robot_refusing_gives_its_place_back(robot_office, receiver):
    store, clock, output, cfg = robot_office
    receiver.refuse = 1
    notice = notice_from_row(store.outbox.notice_row("w-00", "finance"), cfg)
    with pytest.raises(OutputError, match="errcode 130101"):
        output.deliver(notice)
    held, _ = push_all(store, output, cfg, [f"w-{i:02d}" for i in range(LIMIT)])
    assert held == []  # the refused one did not use up a place


def test_a_signed_dingtalk_robot_signs_each_message():
    robot = Robot.parse(f"dingtalk://SEC123secret@{DING_TOKEN}/")
    signed = robot.signed(1_700_000_000_000)
    assert signed["timestamp"] == "1700000000000" and len(signed["sign"]) > 20
    assert Robot.parse(f"dingtalk://{DING_TOKEN}/").signed(1) == {}
