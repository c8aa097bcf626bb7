"""The operations reports and analysis, compared figure by figure with a known fortnight."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from speakerd import config
from speakerd.clock import FakeClock
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.reports import operations
from speakerd.reports.analysis import analyse
from speakerd.store import Store

from .conftest import EXAMPLE

CST = timezone(timedelta(hours=8))
LAST_WEEK, THIS_WEEK = ("2026-11-10", "2026-11-16"), ("2026-11-17", "2026-11-23")


def event(i, type_, data=None, user="u-0", tier="normal", content="事件"):
    return {"id": f"e-{i}", "type": type_, "content": content, "data": data or {}, "user": {"id": user, "name": "客户", "tier": tier}}


def last_week(n):
    events = [event(n(), "order.paid", {"amount": 100, "minutes_to_order": 20}, f"u-{i % 5}", "vip" if i < 2 else "normal") for i in range(10)]
    events += [event(n(), "order.abandoned", {"amount": 50, "cause": "payment_failed" if i < 3 else "timeout"}) for i in range(5)]
    events += [event(n(), "order.browsed", {"prospect": "B"}) for _ in range(5)]
    events += [event(n(), "member.joined", {"channel": "taobao" if i < 3 else "pos"}) for i in range(4)]
    events += [event(n(), "member.merged", {"channel": "pos"}), event(n(), "campaign.approved", {"campaign": "会员日"}),
               event(n(), "campaign.approved", {"campaign": "会员日"})]
    return events


def this_week(n):
    events = [event(n(), "order.paid", {"amount": 150, "minutes_to_order": 10}, f"u-{i % 6}", "vip" if i % 6 < 3 else "normal")
              for i in range(12)]
    causes = ["payment_failed"] * 5 + ["timeout", "out_of_stock"]
    events += [event(n(), "order.abandoned", {"amount": 80, "cause": cause, "prospect": "important" if i < 4 else "customer"})
               for i, cause in enumerate(causes)]
    events += [event(n(), "order.browsed", {"prospect": "C"}) for _ in range(3)]
    events += [event(n(), "member.vip_reached", {"spent": 1200}) for _ in range(2)]
    events += [event(n(), "member.joined", {"channel": "jd" if i < 4 else "pos"}) for i in range(6)]
    events += [event(n(), "member.merged", {"channel": "jd"}) for _ in range(2)]
    events += [event(n(), "campaign.submitted", {"campaign": "双十二"}) for _ in range(3)]
    events += [event(n(), "campaign.rejected", {"campaign": "双十二", "words": ["最低价"]}),
               event(n(), "campaign.rejected", {"campaign": "双十二", "words": ["国家级", "最低价"]}),
               event(n(), "campaign.approved", {"campaign": "双十二"}), event(n(), "campaign.shared", {"campaign": "双十二", "coupons": 500})]
    events += [event(n(), "coupon.verified", {"campaign": "双十二"}) for _ in range(50)]
    events += [event(n(), "flashsale.started", {"product": "保温杯", "stock": 100}),
               event(n(), "flashsale.result", {"product": "保温杯", "winners": 100, "failures": 30, "failed_buyers": 20, "repeat_failers": 6}),
               event(n(), "flashsale.consolation", {"product": "保温杯", "failures": 5}),
               event(n(), "flashsale.consolation", {"product": "保温杯", "failures": 3})]
    return events


@pytest.fixture(scope="module")
def fortnight(tmp_path_factory):
    """Last week's events on 2026-11-12 and this week's on 2026-11-20 (afternoon, local time), through real ingest."""
    import os
    import time

    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    clock = FakeClock(datetime(2026, 11, 12, 15, 0, tzinfo=CST))
    path = tmp_path_factory.mktemp("ops") / "speakerd.db"
    store = Store(path, clock)
    ingest, counter = Ingest(config.load(EXAMPLE), store), iter(range(10**6))
    ingest(Batch(last_week(lambda: next(counter)), "1"), ["log"])
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=CST))
    ingest(Batch(this_week(lambda: next(counter)), "2"), ["log"])
    yield store, path
    store.close()
    os.environ.pop("TZ")
    time.tzset()


def total(store, kind, week):
    return operations.report(store, kind, *week)[-1]


def test_funnel(fortnight):
    store, _ = fortnight
    assert total(store, "funnel", THIS_WEEK) == {
        "day": "total", "paid": 12, "a_alerts": 7, "b_alerts": 3, "conversion": round(12 / 22, 4), "avg_minutes_to_order": 10.0,
        "revenue": 1800.0, "abandoned_amount": 560.0, "cause_out_of_stock": 1, "cause_payment_failed": 5, "cause_timeout": 1, "cause_unknown": 0,
        "grade_important": 4, "grade_prospect": 0, "grade_secondary": 3, "grade_none": 3}
    assert total(store, "funnel", LAST_WEEK)["grade_prospect"] == 5  # browsed ten minutes or more: the B grade
    days = operations.report(store, "funnel", "2026-11-01", "2026-11-30")
    assert [d["day"] for d in days] == ["2026-11-12", "2026-11-20", "total"] and days[0]["paid"] == 10


def test_vip(fortnight):
    store, _ = fortnight
    assert total(store, "vip", THIS_WEEK) == {"day": "total", "customers": 6, "vip_customers": 3, "vip_share": 0.5, "revenue": 1800.0,
                                             "vip_revenue": 900.0, "vip_revenue_share": 0.5, "vip_orders": 6, "new_vips": 2}


def test_channel(fortnight):
    store, _ = fortnight
    rows = operations.report(store, "channel", *THIS_WEEK)
    assert rows == [{"channel": "jd", "joined": 4, "merged": 2, "share_of_new": round(4 / 6, 4)},
                    {"channel": "pos", "joined": 2, "merged": 0, "share_of_new": round(2 / 6, 4)},
                    {"channel": "total", "joined": 6, "merged": 2, "share_of_new": 1.0}]


def test_campaign(fortnight):
    store, _ = fortnight
    assert total(store, "campaign", THIS_WEEK) == {"campaign": "total", "submitted": 3, "approved": 1, "rejected": 2, "pass_rate": 0.3333,
                                                  "coupons_issued": 500, "coupons_verified": 50, "use_rate": 0.1, "top_words": "最低价×2、国家级×1"}


def test_flash_sale(fortnight):
    store, _ = fortnight
    assert operations.report(store, "flash_sale", *THIS_WEEK)[0] == {
        "sale": "保温杯", "sales": 1, "stock": 100, "winners": 100, "failures": 30, "failed_buyers": 20, "repeat_failers": 6,
        "consolations": 2}


def test_the_analysis_says_what_changed_and_what_needs_attention(fortnight):
    store, _ = fortnight
    found = analyse(store, *THIS_WEEK)
    assert found.lines == [
        "支付订单12笔，比上周多20%；成交额¥1,800。",
        "A 类告警7次，比上周多40%，主要原因：支付失败（5次）。",
        "下单转化率55%，上升5个百分点；B 类告警3次；平均下单用时10分钟。",
        "告警按客户分级：重要潜在客户4次，次要客户3次，非潜在客户3次。",
        "VIP 客户贡献了50%的成交额（6笔），占下单客户的50%；新增 VIP 2人。",
        "新增会员6人，比上周多50%，最多来自京东（4人）；会员合并2次。",
        "活动审核3次，通过率33%；最常见的敏感词：最低价×2、国家级×1；优惠券发放500张，核销50张（10.0%）。",
        "秒杀1场，成交100单，20人抢购失败，其中2人失败多次。",
    ]
    assert found.attention == [
        "A 类告警7次，比上周多40%，主要原因：支付失败（5次），请检查支付和库存。",
        "4次 A 类告警来自从未付款的重要潜在客户，建议尽快回访。",
        "活动审核通过率只有33%，最常见的敏感词是“最低价”。",
        "2位秒杀失败多次的客户需要发放安慰券。",
    ]
    assert found.text().startswith("运营分析（2026-11-17至2026-11-23，对比2026-11-10至2026-11-16）\n支付订单12笔")


def test_stats_command_writes_each_report_as_csv_and_json_and_the_analysis(fortnight, tmp_path):
    store, path = fortnight
    cfg = tmp_path / "config.yaml"
    cfg.write_text(EXAMPLE.read_text(encoding="utf-8").replace("path: speakerd.db", f"path: {path}"), encoding="utf-8")
    run = lambda *args: subprocess.run([sys.executable, "-m", "speakerd", "stats", "-c", str(cfg), *args],  # noqa: E731
                                       capture_output=True, text=True, timeout=60, env={"TZ": "Asia/Shanghai", "PATH": "/usr/bin:/bin"})
    as_json = json.loads(run("--by", "vip", "--since", THIS_WEEK[0], "--until", THIS_WEEK[1], "--format", "json").stdout)
    assert as_json["rows"][-1]["vip_revenue_share"] == 0.5
    as_csv = run("--by", "funnel", "--since", THIS_WEEK[0], "--until", THIS_WEEK[1], "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("day,paid,a_alerts,b_alerts,conversion") and as_csv[-1].startswith("total,12,7,3,")
    chart = tmp_path / "funnel.png"
    assert run("--by", "campaign", "--chart", str(chart)).returncode == 0 and chart.stat().st_size > 1000
    said = run("--analysis", "--since", THIS_WEEK[0], "--until", THIS_WEEK[1]).stdout
    assert "A 类告警7次，比上周多40%，主要原因：支付失败（5次）。" in said and "需要关注：" in said


def test_a_bad_field_counts_the_event_and_adds_nothing(tmp_path):
    from speakerd.message import parse
    from speakerd.message.business import Fact, facts

    odd = parse({"id": "x", "type": "order.paid", "content": "c", "data": {"amount": "lots", "minutes_to_order": True}})
    assert facts(odd) == [Fact("funnel", "paid", "", 1, 0.0), Fact("vip", "revenue", "normal", 1, 0.0)]
    words = parse({"id": "y", "type": "campaign.rejected", "content": "c", "data": {"campaign": ["x"], "words": "最低价"}})
    assert facts(words) == [Fact("campaign", "rejected", "?", 1, 0.0)]


def test_the_reports_page_shows_each_operations_report_with_its_chart_and_the_analysis(stub, write_config, run_daemon):
    from speakerd.device.password import set_password
    from speakerd.web import create_app

    from .conftest import fast_platform
    from .helpers import login

    path = write_config(fast_platform(stub([]).url))
    set_password(path, "a-long-password-1")
    daemon = run_daemon(path)
    counter = iter(range(10**6))
    Ingest(daemon.cfg, daemon.store)(Batch(this_week(lambda: next(counter)), "1"), ["log"])
    client = create_app(daemon.store, daemon).test_client()
    login(client, "a-long-password-1")
    today = daemon.store.clock.now().astimezone().date().isoformat()
    pages = {kind: client.get(f"/reports?by={kind}&since={today}&until={today}").get_data(as_text=True) for kind in operations.KINDS}
    assert all('id="operations"' in page and "<svg" in page and 'id="analysis"' in page for page in pages.values())
    assert "<th>转化率</th>" in pages["funnel"] and "54.5%" in pages["funnel"]  # 12 paid of 22
    assert "<td>京东</td>" not in pages["channel"] and "<td>jd</td>" in pages["channel"]
    assert "常见敏感词： 最低价×2、国家级×1" in pages["campaign"]
    assert "A 类告警7次，前一天没有，主要原因：支付失败（5次）。" in pages["funnel"] and "需要关注" in pages["funnel"]


def test_the_weekly_analysis_goes_to_each_lead_once_at_the_configured_time(stub, write_config, run_daemon, recording):
    from .conftest import fast_platform
    from .helpers import wait_until

    cfg = fast_platform(stub([]).url)
    cfg["stats"] = {"analysis_at": "mon 09:30"}
    daemon = run_daemon(write_config(cfg))
    trigger = {f.name: str(f) for f in daemon.scheduler.get_job("analysis").trigger.fields}
    assert (trigger["day_of_week"], trigger["hour"], trigger["minute"]) == ("mon", "9", "30")
    counter = iter(range(10**6))
    Ingest(daemon.cfg, daemon.store)(Batch(this_week(lambda: next(counter)), "1"), ["log"])
    today = daemon.store.clock.now().astimezone().date().isoformat()
    leads = sum(1 for _, (_, dep) in daemon.cfg.departments().items() if any(s.lead for s in dep.staff))
    assert daemon.announcer.analysis(until=today) == leads > 0
    assert wait_until(lambda: sum(n.type == "digest.analysis" for n in recording.notices) == leads)
    sent = next(n for n in recording.notices if n.type == "digest.analysis")
    assert sent.content.startswith("运营分析（") and "A 类告警7次" in sent.content and sent.category == "digest"
    assert daemon.announcer.analysis(until=today) == 0  # once per week and department


def test_a_weekly_time_that_cannot_work_is_refused_naming_the_setting(write_config):
    bad = write_config({"stats": {"analysis_at": "monday 9"}})
    with pytest.raises(config.ConfigError) as refused:
        config.load(bad)
    assert any("stats.analysis_at: must be a weekday and a time, e.g. mon 09:00" in p for p in refused.value.problems)


def test_a_database_from_before_the_operations_reports_is_filled_from_its_messages_on_upgrade(tmp_path, shanghai):
    import sqlite_utils

    from speakerd.store import migrations

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m009_facts")
    base = {"created_at": "", "app": "taobao", "user_name": "客户", "category": "order", "classified_by": "type", "priority": 2}
    old["messages"].insert_all([
        {**base, "id": "p-1", "received_at": "2026-11-20T07:00:00+00:00", "type": "order.paid", "content": "c", "user_id": "u-1",
         "user_tier": "vip", "data": json.dumps({"amount": 300, "minutes_to_order": 4})},
        {**base, "id": "p-2", "received_at": "2026-11-20T08:00:00+00:00", "type": "order.paid", "content": "c", "user_id": "u-2",
         "user_tier": "normal", "data": json.dumps({"amount": 100})},
        {**base, "id": "a-1", "received_at": "2026-11-20T09:00:00+00:00", "type": "order.abandoned", "content": "c", "user_id": "u-3",
         "user_tier": "normal", "data": json.dumps({"amount": 50, "cause": "timeout"})},
    ])
    old.close()
    store = Store(path)
    try:
        funnel, vip = operations.report(store, "funnel")[-1], operations.report(store, "vip")[-1]
        assert (funnel["paid"], funnel["a_alerts"], funnel["revenue"], funnel["cause_timeout"]) == (2, 1, 400.0, 1)
        assert (vip["customers"], vip["vip_customers"], vip["vip_revenue"]) == (2, 1, 300.0)
        assert operations.report(store, "funnel")[0]["day"] == "2026-11-20"  # the local day (Asia/Shanghai)
    finally:
        store.close()


def test_each_flash_sale_is_its_own_row_even_for_the_same_product(tmp_path, shanghai):
    from speakerd.stub import families

    m, sales = families.Maker(3, datetime(2026, 11, 20, 10, tzinfo=CST)), families.FlashSales()
    events = []
    for stock in (50, 80):  # the same product sold twice
        events += sales.started(m, "保温杯", stock)
        for i in range(4):
            sales.attempt_failed(m, "保温杯", m.customer(1 if stock == 50 else i))
        events += sales.ended(m, "保温杯", stock, 12)
    store = Store(tmp_path / "s.db")
    try:
        Ingest(config.load(EXAMPLE), store)(Batch(events, "1"), ["log"])
        rows = operations.report(store, "flash_sale")
        assert [(r["stock"], r["failures"], r["failed_buyers"], r["repeat_failers"], r["consolations"]) for r in rows] == [
            (50, 4, 1, 1, 1), (80, 4, 4, 0, 0), (130, 8, 5, 1, 1)]
        assert rows[0]["sale"].startswith("保温杯 11-20 ") and rows[0]["sale"] != rows[1]["sale"] and rows[2]["sale"] == "total"
    finally:
        store.close()


def test_a_cause_the_platform_adds_is_a_column_on_every_day(tmp_path, shanghai):
    """Regression: a cause seen on a later day only was a column of that day's row, dropped from the table and CSV."""
    clock = FakeClock(datetime(2026, 11, 20, 15, 0, tzinfo=CST))
    store = Store(tmp_path / "s.db", clock)
    try:
        ingest = Ingest(config.load(EXAMPLE), store)
        ingest(Batch([event(1, "order.abandoned", {"cause": "timeout"})], "1"), ["log"])
        clock.set(datetime(2026, 11, 21, 15, 0, tzinfo=CST))
        ingest(Batch([event(2, "order.abandoned", {"cause": "address_invalid"})], "2"), ["log"])
        rows = operations.report(store, "funnel")
        assert [list(r) for r in rows][0] == [list(r) for r in rows][1] == [list(r) for r in rows][2]
        assert [r["cause_address_invalid"] for r in rows] == [0, 1, 1]
    finally:
        store.close()


def test_the_range_before_a_very_wide_one_stops_at_the_first_day():
    """Regression: the analysis of 2000-01-01…9998-12-31 (the widest the page takes) raised OverflowError: a 500."""
    from speakerd.reports.operations import previous_period

    assert previous_period("2000-01-01", "9998-12-31") == ("0001-01-01", "0001-01-01")
    assert previous_period("2026-11-16", "2026-11-22") == ("2026-11-09", "2026-11-15")
