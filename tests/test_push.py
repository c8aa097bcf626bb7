"""Push through apprise to a real HTTP receiver on loopback that speaks the services' request shapes."""

import json
import logging

import pytest

from speakerd.cli import main
from speakerd.config.push_urls import mask
from speakerd.outputs.push.send import shaped
from speakerd.ports import free_port

from .helpers import DING_TOKEN, WITHDRAWAL, wait_until, with_targets


def test_each_service_gets_title_body_and_priority(stub, write_config, real_daemon, receiver):
    server = stub([WITHDRAWAL, {"id": "m-t1", "type": "tech.platform.alert", "content": "技术告警：连不上平台"}])
    real_daemon(write_config(with_targets(server.url, receiver.port, finance=[f"dingtalk://{DING_TOKEN}/"])))
    assert wait_until(lambda: receiver.kinds("json") and receiver.kinds("dingtalk") and receiver.kinds("ntfy"))
    hook = receiver.kinds("json")[0]
    assert hook["title"] == "财务｜财务部" and hook["message"].startswith("张三申请提现5000元，请审核\n负责人：003 王芳")
    assert hook["priority"] == "high" and hook["type"] == "warning"
    ding = receiver.kinds("dingtalk")[0]
    assert ding["access_token"] == DING_TOKEN and ding["msgtype"] == "text"
    assert ding["text"]["content"].startswith("财务｜财务部\n张三申请提现5000元")
    ntfy = receiver.kinds("ntfy")[0]
    assert ntfy["topic"] == "tech-alerts" and ntfy["title"] == "技术告警｜技术部" and ntfy["X-Priority"] == "max"


def test_receiver_down_then_up_delivers_each_once_in_order(stub, write_config, real_daemon, receiver, caplog):
    receiver.stop()
    events = [{**WITHDRAWAL, "id": f"m-w{i}", "content": f"员工{i}申请提现{i}00元"} for i in range(1, 6)]
    server = stub(events)
    d = real_daemon(write_config(with_targets(server.url, receiver.port)))
    assert wait_until(lambda: len(d.store.query("select * from push_log where state = 'failed'")) == 5)
    receiver.start()
    assert wait_until(lambda: len(receiver.kinds("json")) >= 5, timeout=20)
    assert wait_until(lambda: d.store.query("select count(*) as n from push_log where state = 'sent'")[0]["n"] == 5)
    d.stop()
    contents = [b["message"].split("\n")[0] for b in receiver.kinds("json")]
    assert contents == [e["content"] for e in events]
    assert "cannot deliver" in caplog.text


def test_restart_with_a_full_outbox_sends_each_once(stub, write_config, real_daemon, receiver):
    receiver.stop()
    events = [{**WITHDRAWAL, "id": f"m-w{i}"} for i in range(1, 4)]
    server = stub(events)
    path = write_config(with_targets(server.url, receiver.port))
    first = real_daemon(path)
    assert wait_until(lambda: len(first.store.query("select * from push_log where state = 'failed'")) == 3)
    first.stop()
    receiver.start()
    second = real_daemon(path)
    assert wait_until(lambda: len(receiver.kinds("json")) == 3)
    assert wait_until(lambda: second.store.query("select count(*) as n from outbox where output = 'push' and state = 'done'")[0]["n"] == 3)
    second.stop()
    assert len(receiver.kinds("json")) == 3


def test_falls_back_to_the_next_target_and_records_it(stub, write_config, real_daemon, receiver):
    dead = f"json://127.0.0.1:{free_port()}/dead"
    server = stub([WITHDRAWAL])
    d = real_daemon(write_config(with_targets(server.url, receiver.port, staff003=[f"{dead} || json://127.0.0.1:{receiver.port}/hook"])))
    assert wait_until(lambda: len(receiver.kinds("json")) == 1, timeout=15)
    assert wait_until(lambda: d.store.push_log.state("m-w1", "finance", "staff:003")["state"] == "sent")
    row = d.store.push_log.state("m-w1", "finance", "staff:003")
    assert (row["target_index"], row["fallbacks"]) == (1, 1)
    assert row["target"] == f"json://127.0.0.1:{receiver.port}/h…"


def test_a_person_gets_every_message_on_each_of_their_targets_once_across_a_restart(stub, write_config, real_daemon, receiver):
    """Regression: with [pc, phone] the list was a fallback chain: 131 pushes went to the PC and 2 to the phone."""
    events = [{**WITHDRAWAL, "id": f"m-w{i}", "content": f"员工{i}申请提现{i}00元"} for i in range(1, 4)]
    server = stub(events[:2])
    pc, phone = f"json://127.0.0.1:{receiver.port}/hook", f"ntfy://127.0.0.1:{receiver.port}/phone-of-003"
    path = write_config(with_targets(server.url, receiver.port, staff003=[pc, phone]))
    first = real_daemon(path)
    assert wait_until(lambda: first.store.query("select count(*) as n from push_log where recipient like 'staff:003%' and state = 'sent'")[0]["n"] == 4)
    first.stop()
    server.platform.publish(events[2:])
    second = real_daemon(path)
    assert wait_until(lambda: second.store.query("select count(*) as n from push_log where recipient like 'staff:003%' and state = 'sent'")[0]["n"] == 6)
    second.stop()
    on_pc = [b["message"].split("\n")[0] for b in receiver.kinds("json") if "员工" in b.get("message", "")]
    on_phone = [b["message"].split("\n")[0] for b in receiver.kinds("ntfy") if b.get("topic") == "phone-of-003"]
    assert on_pc == on_phone == [e["content"] for e in events]  # each on both, once, in order


def test_secrets_of_targets_never_reach_logs_or_the_store(stub, write_config, real_daemon, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.stop()
    secret_user, secret_topic = "pushuser", "topic-s3cr3t-xyz"
    staff = [f"json://{secret_user}:pw-s3cr3t@127.0.0.1:{receiver.port}/hook-s3cr3t || ntfy://127.0.0.1:{receiver.port}/{secret_topic}"]
    server = stub([WITHDRAWAL])
    d = real_daemon(write_config(with_targets(server.url, receiver.port, staff003=staff, finance=[f"dingtalk://{DING_TOKEN}/"])))
    assert wait_until(lambda: len(d.store.query("select * from push_log where fallbacks = 1")) == 1, timeout=15)
    stored = json.dumps(d.store.query("select * from push_log"), ensure_ascii=False)
    outbox = json.dumps(d.store.query("select * from outbox"), ensure_ascii=False)
    for secret in ("s3cr3t", DING_TOKEN, secret_user):
        assert secret not in caplog.text and secret not in stored and secret not in outbox, secret


@pytest.mark.parametrize(
    "url, shown",
    [
        ("ntfy://ntfy.sh/secret-topic", "ntfy://ntfy.sh/s…"),
        ("json://user:pass@10.0.0.2:8080/hook", "json://10.0.0.2:8080/h…"),
        (f"dingtalk://{DING_TOKEN}/", "dingtalk://d…/"),
        ("tgram://123456789:AAbbccddeeffgghhiijjkkllmmnnoopp/12345", "tgram://1…/1…/"),
    ],
)
def test_mask(url, shown):
    masked = mask(url)
    assert masked.startswith(shown.split("…")[0])
    assert "secret" not in masked and "pass" not in masked and DING_TOKEN not in masked and "AAbb" not in masked


def test_priority_is_shaped_per_service_and_the_users_choice_wins():
    assert "priority=max" in shaped("ntfy://h/t", "critical")
    assert "priority=low" in shaped("ntfy://h/t?priority=low", "critical")
    assert "level=timeSensitive" in shaped("bark://h/k", "high")
    assert "%3Apriority=normal" in shaped("json://h/p", "normal")
    assert shaped("dingtalk://t/", "critical") == "dingtalk://t/"


def test_push_test_command(write_config, receiver, capsys):
    dead = f"json://127.0.0.1:{free_port()}/dead"
    path = write_config(with_targets("http://127.0.0.1:9", receiver.port, staff003=[f"json://127.0.0.1:{receiver.port}/hook", dead]))
    assert main(["push-test", "003", "-c", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"1. json://127.0.0.1:{receiver.port}/h…: delivered"
    assert out[1].startswith("2. json://127.0.0.1:") and "FAILED" in out[1]
    assert receiver.kinds("json")[0]["title"] == "测试｜财务部"
    assert main(["push-test", "999", "-c", str(path)]) == 1
    assert "no staff member '999'" in capsys.readouterr().err


def test_invalid_target_names_the_staff_member_and_line(tmp_path):
    from .test_config import problems

    found = problems("""\
categories:
  notice: {name: 通知}
subsystems:
  hq:
    name: 总部
    departments:
      tech:
        name: 技术部
        staff:
          - id: "007"
            name: 吴昊
            push: ["ntfy://ntfy.sh/ok", "tgram://not-a-bot-token"]
route:
  department: tech
""")
    assert found == ["cfg.yaml:12: subsystems.hq.departments.tech.staff[0].push: item 2 (tgram://…) is not a push target apprise understands (see docs/push.md)"]


def test_a_push_with_nobody_to_tell_is_no_proof_that_push_works_again(tmp_path, open_store, write_config):
    """Regression: with one dead target, the outage alert itself (no push target) counted as recovery: 9 alerts and
    9 'working again' in 9 minutes."""
    from speakerd import config
    from speakerd.delivery.dispatch import OutputWorker
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.outputs.push import PushOutput

    class Health:
        def __init__(self):
            self.calls = []

        def failing(self, subject, kind, reason, logged=False):
            self.calls.append(("failing", subject))

        def ok(self, subject):
            self.calls.append(("ok", subject))

    data = with_targets("http://127.0.0.1:9", free_port())  # every target on a port nobody listens on
    del data["subsystems"]["headquarters"]["departments"]["tech"]["staff"][0]["push"]  # tech has no phone at all
    cfg = config.load(write_config(data))
    store, health = open_store(tmp_path / "p.db"), Health()
    ingest = Ingest(cfg, store)
    worker = OutputWorker(PushOutput(store, lambda: cfg), store, lambda: cfg, health)
    ingest(Batch([WITHDRAWAL], "1"), ["push"])
    worker.handle(store.outbox.claim("push"))  # the withdrawal: its target is dead
    ingest(Batch([{"id": "t-1", "type": "tech.platform.alert", "content": "技术告警：连不上平台"}], "2"), ["push"])
    job = store.outbox.claim("push")
    assert job.message_id == "t-1"
    worker.handle(job)  # the alert: nobody to push it to
    assert health.calls == [("failing", "output:push")]
