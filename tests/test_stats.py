"""Reports computed from a known week, compared figure by figure; expiry, masking and the digest."""

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from speakerd import config
from speakerd.cli import main
from speakerd.clock import FakeClock
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.reports import stats
from speakerd.store import expiry

from .conftest import EXAMPLE

CST = timezone(timedelta(hours=8))

# (id, type, app, tier, received local time, acknowledged after seconds or None)
WEEK = [
    ("m1", "order.paid", "wechat-mall", "", "2026-11-20 09:00", 120),
    ("m2", "order.abandoned", "wechat-mall", "", "2026-11-20 09:10", None),
    ("m3", "finance.withdrawal", "own-shop", "", "2026-11-20 10:00", 600),
    ("m4", "order.paid", "taobao", "vip", "2026-11-20 10:30", 60),  # VIP: membership and orders
    ("m5", "order.browsed", "jd", "", "2026-11-21 14:00", None),
    ("m6", "order.paid", "wechat-mall", "", "2026-11-21 15:00", 300),
    ("m7", "member.joined", "pos", "", "2026-11-21 16:00", None),
]


class Clock(FakeClock):
    """Set by local shop time, as the week above is written."""

    def set(self, local):
        super().set(datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=CST) if isinstance(local, str) else local)


@pytest.fixture
def week(tmp_path, open_store, shanghai, monkeypatch):
    """The week above, ingested and acknowledged at the given times, with one 5-minute outage."""
    clock = Clock(datetime(2026, 11, 20, tzinfo=CST))
    cfg = config.load(EXAMPLE)
    path = tmp_path / "config.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    store = open_store(config.database_path(cfg, path), clock)
    ingest = Ingest(cfg, store)
    for mid, type_, app, tier, local, _ in WEEK:
        clock.set(local)
        ingest(Batch([{"id": mid, "type": type_, "app": app, "user": {"tier": tier}, "content": f"内容{mid}"}], mid), ["log"])
    for mid, *_, local, wait in WEEK:
        if wait is not None:
            clock.set(datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=CST) + timedelta(seconds=wait))
            assert store.acks.acknowledge(mid, "test") == "done"
    store.outages.open("platform", "unreachable", "refused", "2026-11-20T02:00:00+00:00")
    store.outages.close(1, "2026-11-20T02:05:00+00:00")
    return store, cfg, path, clock


def pick(rows, keys):
    return [{k: r[k] for k in keys} for r in rows]


def test_total(week):
    store, cfg, *_ = week
    [row] = stats.report(store, "total", cfg=cfg)
    assert pick([row], ["messages", "acked", "unacked", "ack_ratio"]) == [{"messages": 7, "acked": 4, "unacked": 3, "ack_ratio": 0.5714}]
    assert (row["orders_paid"], row["orders_abandoned"], row["orders_browsed"], row["paid_ratio"]) == (3, 1, 1, 0.75)


def test_by_day_with_order_funnel(week):
    store, cfg, *_ = week
    rows = stats.report(store, "day", cfg=cfg)
    assert pick(rows, ["day", "messages", "acked", "orders_paid", "orders_abandoned", "orders_browsed", "paid_ratio"]) == [
        {"day": "2026-11-20", "messages": 4, "acked": 3, "orders_paid": 2, "orders_abandoned": 1, "orders_browsed": 0, "paid_ratio": 0.6667},
        {"day": "2026-11-21", "messages": 3, "acked": 1, "orders_paid": 1, "orders_abandoned": 0, "orders_browsed": 1, "paid_ratio": 1.0},
    ]


def test_by_department_counts_each_assignment_with_ack_times(week):
    store, cfg, *_ = week
    rows = stats.report(store, "department", cfg=cfg)
    assert pick(rows, ["department", "name", "messages", "acked", "ack_median_s", "ack_p90_s"]) == [
        {"department": "finance", "name": "财务部", "messages": 1, "acked": 1, "ack_median_s": 600.0, "ack_p90_s": 600.0},
        {"department": "membership", "name": "会员部", "messages": 2, "acked": 1, "ack_median_s": 60.0, "ack_p90_s": 60.0},
        {"department": "orders", "name": "订单部", "messages": 5, "acked": 3, "ack_median_s": 120.0, "ack_p90_s": 300.0},
    ]


def test_by_staff(week):
    store, cfg, *_ = week
    rows = stats.report(store, "staff", cfg=cfg)
    assert pick(rows, ["staff", "name", "messages", "acked", "ack_median_s"]) == [
        {"staff": "001", "name": "李娜", "messages": 3, "acked": 3, "ack_median_s": 120.0},
        {"staff": "002", "name": "陈伟", "messages": 2, "acked": 0, "ack_median_s": None},
        {"staff": "003", "name": "王芳", "messages": 1, "acked": 1, "ack_median_s": 600.0},
        {"staff": "006", "name": "周婷", "messages": 2, "acked": 1, "ack_median_s": 60.0},
    ]


@pytest.mark.parametrize(
    "by, expected",
    [
        ("hour", {9: 2, 10: 2, 14: 1, 15: 1, 16: 1}),
        ("month", {"2026-11": 7}),
        ("category", {"finance": 1, "member": 1, "order": 3, "order_alert": 2}),
        ("app", {"jd": 1, "own-shop": 1, "pos": 1, "taobao": 1, "wechat-mall": 3}),
        ("subsystem", {"headquarters": 1, "mall": 7}),
    ],
)
def test_other_keys(week, by, expected):
    store, cfg, *_ = week
    assert {r[by]: r["messages"] for r in stats.report(store, by, cfg=cfg)} == expected


def test_day_range_is_inclusive(week):
    store, cfg, *_ = week
    assert stats.report(store, "total", "2026-11-21", "2026-11-21")[0]["messages"] == 3
    assert stats.report(store, "total", "2026-11-20", "2026-11-20")[0]["messages"] == 4
    assert stats.report(store, "total", "2026-11-22") == []
    [finance] = stats.report(store, "department", "2026-11-20", "2026-11-20", cfg)[:1]
    assert finance["ack_median_s"] == 600.0


def test_outages(week):
    store, *_ = week
    assert stats.outages(store) == [{"subject": "platform", "outages": 1, "seconds": 300.0}]
    assert stats.outages(store, "2026-11-21") == []


def test_reports_survive_expiry_and_ack_times_go_with_the_messages(week):
    store, cfg, _, clock = week
    clock.set("2026-11-21 12:00")
    removed = expiry.expire(store, config.parse_text(EXAMPLE.read_text(encoding="utf-8").replace("retention_days: 90", "retention_days: 1")))
    assert removed == 4 and store.reports.counts()["messages"] == 3
    assert store.reports.counts()["assignments"] == 3 and store.query("select count(*) as n from outbox")[0]["n"] == 3
    assert stats.report(store, "total")[0]["messages"] == 7
    orders = next(r for r in stats.report(store, "department", cfg=cfg) if r["department"] == "orders")
    assert orders["messages"] == 5 and orders["ack_median_s"] == 300.0  # only m6 is still kept


def test_category_retention_overrides_the_default(week):
    store, _, _, clock = week
    clock.set("2026-11-23 12:00")
    text = EXAMPLE.read_text(encoding="utf-8")
    cfg = config.parse_text(text.replace("  member:\n    name: 会员\n", "  member:\n    name: 会员\n    retention_days: 1\n"))
    assert expiry.expire(store, cfg) == 1  # m7, the new member; everything else keeps 90 days
    assert "m7" not in {r["id"] for r in store.reports.messages()}


def test_expiry_goes_in_small_batches(week):
    store, _, _, clock = week
    store.promises.make("m1")  # a hub's promise to say a message goes with it
    clock.set("2027-03-01 12:00")  # past the 90 days of retention
    assert expiry.expire(store, config.load(EXAMPLE), batch=2, pause=0) == 7
    assert store.reports.counts()["messages"] == 0 and not store.promises.made("m1")


def test_masking_phone_and_id_numbers_after_an_age(week):
    store, _, _, clock = week
    with store.atomic():
        store.db.execute("update messages set content = '客户手机13812345678，身份证11010519491231002X', data = ? where id = 'm1'",
                         [json.dumps({"phone": "13987654321", "order": "202611200001"})])
    cfg = config.load(EXAMPLE)
    clock.set("2026-11-30 12:00")
    expiry.mask_old(store, cfg)
    assert store.query("select masked_at from messages where id = 'm1'")[0]["masked_at"] is None  # not 30 days old yet
    clock.set("2026-12-21 12:00")  # 30 days after m1..m4
    expiry.mask_old(store, cfg)
    row = store.query("select content, data, masked_at from messages where id = 'm1'")[0]
    assert row["content"] == "客户手机138****5678，身份证110105********002X"
    assert json.loads(row["data"]) == {"phone": "139****4321", "order": "202611200001"}
    assert row["masked_at"]
    assert store.query("select masked_at from messages where id = 'm7'")[0]["masked_at"] is None


def test_digest_tells_each_lead_yesterday_and_open_work(week):
    from speakerd.reports import digest

    store, cfg, *_ = week
    found = {dep: (m, lead) for m, dep, lead in digest.digests(store, cfg, "2026-11-21")}
    message, lead = found["orders"]
    assert message["content"] == "订单部日报：昨日共2条消息，已确认1条；目前仍有2条未处理。"  # m5, m6
    assert lead is None  # the orders department has no lead: the rotation picks
    assert "finance" not in found  # nothing yesterday, nothing open
    assert found["membership"][0]["data"]["unhandled"] == 1


# --- the command ----------------------------------------------------------------


def test_stats_command_formats(week, capsys):
    _, _, path, _ = week
    assert main(["stats", "-c", str(path), "--by", "department", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["department"], r["messages"], r["ack_p90_s"]) for r in rows] == [("finance", "1", "600.0"), ("membership", "2", "60.0"), ("orders", "5", "300.0")]
    assert main(["stats", "-c", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"][0]["messages"] == 7 and data["outages"][0]["seconds"] == 300.0
    assert main(["stats", "-c", str(path), "--by", "day", "--since", "2026-11-21"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["day", "messages", "acked"] and out[1].split()[:3] == ["2026-11-21", "3", "1"]
    assert main(["stats", "-c", str(path), "--since", "last tuesday"]) == 2


@pytest.mark.parametrize("by, suffix", [("day", "png"), ("department", "png"), ("category", "svg")])
def test_chart_is_written(week, tmp_path, capsys, by, suffix):
    _, _, path, _ = week
    out = tmp_path / f"chart.{suffix}"
    assert main(["stats", "-c", str(path), "--by", by, "--chart", str(out)]) == 0
    if suffix == "png":
        with Image.open(out) as image:
            assert image.size == (990, 495)
            assert len(image.convert("L").getcolors(maxcolors=65536)) > 10  # something was drawn
    else:
        text = out.read_text()
        assert text.startswith("<?xml") and "<svg" in text


def test_daemon_sends_the_digest_to_the_lead_through_the_outputs(stub, write_config, run_daemon, recording):
    from .conftest import fast_platform
    from .helpers import wait_until

    server = stub([{"id": "m-1", "type": "finance.withdrawal", "content": "张三申请提现500元"}])
    cfg = fast_platform(server.url)
    cfg["stats"] = {"digest_at": "09:00"}
    daemon = run_daemon(write_config(cfg))
    assert recording.wait_for(1)
    assert daemon.scheduler.get_job("digest").trigger.fields[5].expressions[0].first == 9  # hour
    today = datetime.now().astimezone().strftime("%Y-%m-%d")
    assert daemon.announcer.digest(day=today) == 1
    assert wait_until(lambda: any(n.type == "digest.daily" for n in recording.notices))
    digest = next(n for n in recording.notices if n.type == "digest.daily")
    assert (digest.department, digest.staff_id, digest.category) == ("finance", "003", "digest")
    assert digest.content == "财务部日报：昨日共1条消息，已确认0条；目前仍有1条未处理。"
    assert daemon.announcer.digest(day=today) == 0  # once per day and department


def test_chinese_chart_labels_have_a_font_even_when_matplotlibs_cache_predates_it(monkeypatch):
    """Regression: with a font cache made before fonts-wqy-microhei was installed, every label was empty boxes."""
    from matplotlib import font_manager

    from speakerd.reports import charts

    stale = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    name = charts.cjk_font()
    assert name in charts.CJK_FONTS
    found = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
    assert "wqy" in found or "Noto" in found


def test_a_chart_of_the_total_is_refused_with_what_to_chart_instead(week, tmp_path, capsys):
    _, _, path, _ = week
    assert main(["stats", "-c", str(path), "--by", "total", "--chart", str(tmp_path / "c.png")]) == 2
    assert "--by day" in capsys.readouterr().err and not (tmp_path / "c.png").exists()
