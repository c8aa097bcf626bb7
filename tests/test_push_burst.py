"""A flash sale on the phones: each person gets a few push summaries, not a push per order; nothing lost or counted twice."""

from __future__ import annotations

import re

from speakerd.outputs.push import ack_links
from speakerd.web import create_app
from tests.conftest import fast_platform

from .helpers import Receiver, wait_until

ORDERS = [{"id": f"o-{i}", "type": "order.paid", "content": f"客户已支付订单{i}", "data": {"order_id": str(i), "amount": 10.5 + i},
           "user": {"id": f"u-{i}", "name": f"客户{i}", "tier": "vip" if i % 7 == 0 else "regular"}}
          for i in range(300)]
VIP = sum(1 for o in ORDERS if o["user"]["tier"] == "vip")


def flash_sale_config(url, port):
    hook = f"json://127.0.0.1:{port}/hook"
    cfg = fast_platform(url)
    cfg["push"] = {"timeout": 2}
    cfg["subsystems"] = {
        "mall": {"name": "商城", "departments": {"orders": {"name": "订单部", "staff": [
            {"id": "001", "name": "李娜", "push": [hook]}, {"id": "002", "name": "陈伟", "push": [hook]}]}}},
        "headquarters": {"name": "总部", "departments": {"tech": {"name": "技术部", "staff": [{"id": "007", "name": "吴昊", "push": [hook]}]}}},
    }
    cfg["route"] = {"department": "orders", "routes": [{"match": {"category": "tech"}, "department": "tech"}]}
    cfg["categories"] = {"order": {"name": "订单", "types": ["order.*"], "burst": {"threshold": 5, "group_wait": 0.5, "push_interval": 1.5}},
                         "tech": {"name": "技术告警", "types": ["tech.*"], "priority": "critical"},
                         "notice": {"name": "通知", "priority": "low"}}
    cfg["classify"] = {"fallback": "notice"}
    return cfg


def counted(bodies):
    """Orders told: a summary counts its '订单N笔', a single push one."""
    return sum(int(m.group(1)) if (m := re.search(r"订单(\d+)笔", b["message"])) else 1 for b in bodies)


def test_a_burst_of_orders_is_a_few_push_summaries_per_person_with_exact_counts_and_sums(stub, write_config, run_daemon):
    receiver = Receiver().start()
    try:
        server = stub(ORDERS, pace=0.01)  # 300 orders over about 3 s
        daemon = run_daemon(write_config(flash_sale_config(server.url, receiver.port)), real_outputs=True)
        orders = lambda: [b for b in receiver.kinds("json") if "订单" in b["title"]]  # noqa: E731
        assert wait_until(lambda: counted(orders()) >= 300, 60), counted(orders())
        bodies = orders()
        assert counted(bodies) == 300  # each order told once, to the person it was assigned to
        assert len(bodies) <= 16, len(bodies)  # not 300
        summaries = [b for b in bodies if "笔" in b["message"]]
        assert summaries and all("负责人：00" in b["message"] for b in summaries)
        told_sum = sum(float(m.replace(",", "")) for b in summaries for m in re.findall(r"合计([\d,.]+)元", b["message"]))
        singles = [int(re.search(r"订单(\d+)", b["message"]).group(1)) for b in bodies if b not in summaries]
        told_sum += sum(10.5 + i for i in singles)
        assert abs(told_sum - sum(o["data"]["amount"] for o in ORDERS)) < 0.01
        told_vip = sum(int(m) for b in summaries for m in re.findall(r"其中VIP (\d+)笔", b["message"]))
        assert told_vip + sum(1 for i in singles if i % 7 == 0) == VIP  # "其中VIP N笔", exact
        # A summary's acknowledge answers for all it told.
        leader = daemon.store.query("select o.message_id from outbox o where o.output = 'push' and o.last_error is null"
                                    " and exists (select 1 from outbox g where g.last_error = 'grouped into the summary with ' || o.message_id)"
                                    " limit 1")[0]["message_id"]
        grouped = daemon.store.outbox.summarised_in(leader, "push")
        assert len(grouped) >= 4
        token = ack_links.make_token(daemon.store.meta.secret("ack_secret", ack_links.new_secret), leader, 3600)
        client = create_app(daemon.store, daemon).test_client()
        assert f"另外 {len(grouped)} 条消息" in client.get(f"/ack/{token}").get_data(as_text=True)
        assert client.post(f"/ack/{token}").status_code == 200
        acked = {r["id"] for r in daemon.store.query("select id from messages where acked_at is not null")}
        assert acked >= {leader, *grouped}
    finally:
        receiver.stop()


def test_a_critical_message_is_never_held_back_by_a_burst(stub, write_config, run_daemon):
    receiver = Receiver().start()
    try:
        alert = {"id": "t-1", "type": "tech.platform.alert", "content": "技术告警：测试", "app": "ops"}
        server = stub(ORDERS[:50] + [alert])
        run_daemon(write_config(flash_sale_config(server.url, receiver.port)), real_outputs=True)
        assert wait_until(lambda: any("技术告警：测试" in b["message"] for b in receiver.kinds("json")), 10)
        assert wait_until(lambda: counted([b for b in receiver.kinds("json") if "订单" in b["title"]]) == 50, 20)
    finally:
        receiver.stop()


def test_while_a_burst_lasts_the_few_left_for_the_next_interval_are_one_follow_up_summary(stub, write_config, run_daemon):
    """Regression: after the first summary, a person's leftover orders (fewer than the threshold) came one push each."""
    receiver = Receiver().start()
    try:
        server = stub(ORDERS[:10])  # five for each of the two on duty: one summary each
        run_daemon(write_config(flash_sale_config(server.url, receiver.port)), real_outputs=True)
        orders = lambda: [b for b in receiver.kinds("json") if "订单" in b["title"]]  # noqa: E731
        assert wait_until(lambda: counted(orders()) == 10, 20)
        server.platform.publish(ORDERS[10:14])  # two more each, within the burst
        assert wait_until(lambda: counted(orders()) == 14, 20), orders()
        bodies = orders()
        assert len(bodies) == 4 and all(re.search(r"新增订单(5|2)笔", b["message"]) for b in bodies), bodies
    finally:
        receiver.stop()
