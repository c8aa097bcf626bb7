"""The operations analysis: a few plain Chinese sentences on what changed against the previous period.

Every statement is computed from the operations reports (:mod:`speakerd.reports.operations`)
of two ranges of the same length, the one asked for and the one just
before it, e.g. "A 类告警比上周多40%，主要原因：支付失败". What needs attention
is listed apart: A alerts up by a fifth or more, conversion down by five
points or more, campaigns passing review less than 70 % of the time, buyers
owed a consolation coupon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from speakerd.message.apps import app_name
from speakerd.reports import operations

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.store import Store

A_ALERTS_UP, CONVERSION_DOWN, PASS_RATE_LOW = 0.2, 0.05, 0.7


@dataclass
class Analysis:
    since: str
    until: str
    before: tuple[str, str]
    lines: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)

    def text(self) -> str:
        head = f"运营分析（{self.since}至{self.until}，对比{self.before[0]}至{self.before[1]}）"
        body = [head, *self.lines]
        if self.attention:
            body += ["需要关注：", *(f"- {item}" for item in self.attention)]
        return "\n".join(body)


def _than(since: str, until: str) -> str:
    days = (date.fromisoformat(until) - date.fromisoformat(since)).days + 1
    return {1: "前一天", 7: "上周"}.get(days, f"前{days}天")


def change(now: float, before: float, than: str) -> str:
    """'比上周多40%', '比上周少12%', '与上周持平', '上周没有'."""
    if not before:
        return f"{than}没有" if now else f"{than}也没有"
    ratio = (now - before) / before
    if abs(ratio) < 0.01:
        return f"与{than}持平"
    return f"比{than}{'多' if ratio > 0 else '少'}{abs(ratio):.0%}"


def _total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[-1] if rows else {}


def analyse(store: Store, since: str, until: str) -> Analysis:
    before = operations.previous_period(since, until)
    than = _than(since, until)
    result = Analysis(since, until, before)
    now = {kind: operations.report(store, kind, since, until) for kind in operations.KINDS}
    then = {kind: operations.report(store, kind, *before) for kind in operations.KINDS}
    _orders(result, _total(now["funnel"]), _total(then["funnel"]), than)
    _vip(result, _total(now["vip"]))
    _members(result, now["channel"], _total(then["channel"]), than)
    _campaigns(result, _total(now["campaign"]))
    _sales(result, _total(now["flash_sale"]))
    if not result.lines:
        result.lines.append("这段时间没有订单、会员、活动或秒杀消息。")
    return result


def _orders(result: Analysis, now: dict[str, Any], then: dict[str, Any], than: str) -> None:
    if not now:
        return
    result.lines.append(f"支付订单{now['paid']}笔，{change(now['paid'], then.get('paid', 0), than)}；成交额¥{now['revenue']:,.0f}。")
    causes = {k[6:]: v for k, v in now.items() if k.startswith("cause_") and v}
    a_text = f"A 类告警{now['a_alerts']}次，{change(now['a_alerts'], then.get('a_alerts', 0), than)}"
    if causes:
        cause, times = max(causes.items(), key=lambda kv: (kv[1], kv[0]))
        a_text += f"，主要原因：{operations.CAUSES.get(cause, cause)}（{times}次）"
    result.lines.append(a_text + "。")
    before_a = then.get("a_alerts", 0)
    if now["a_alerts"] >= 5 and (not before_a or (now["a_alerts"] - before_a) / before_a >= A_ALERTS_UP):
        result.attention.append(a_text + "，请检查支付和库存。")
    if now["conversion"] is not None:
        line = f"下单转化率{now['conversion']:.0%}"
        if then.get("conversion") is not None:
            points = (now["conversion"] - then["conversion"]) * 100
            line += f"，{'上升' if points > 0 else '下降'}{abs(points):.0f}个百分点" if abs(points) >= 0.5 else f"，与{than}持平"
            if -points >= CONVERSION_DOWN * 100:
                result.attention.append(f"下单转化率下降{-points:.0f}个百分点。")
        result.lines.append(line + f"；B 类告警{now['b_alerts']}次" +
                            (f"；平均下单用时{now['avg_minutes_to_order']:g}分钟。" if now["avg_minutes_to_order"] is not None else "。"))
    graded = [f"{name}{now[f'grade_{g}']}次" for g, name in operations.GRADE_NAMES.items() if now.get(f"grade_{g}")]
    if graded:
        result.lines.append("告警按客户分级：" + "，".join(graded) + "。")
    if now.get("grade_important", 0) >= 3:
        result.attention.append(f"{now['grade_important']}次 A 类告警来自从未付款的重要潜在客户，建议尽快回访。")


def _vip(result: Analysis, now: dict[str, Any]) -> None:
    if not now or not now.get("revenue"):
        return
    line = f"VIP 客户贡献了{now['vip_revenue_share']:.0%}的成交额（{now['vip_orders']}笔）"
    if now["customers"]:
        line += f"，占下单客户的{now['vip_share']:.0%}"
    result.lines.append(line + f"；新增 VIP {now['new_vips']}人。")


def _members(result: Analysis, rows: list[dict[str, Any]], then: dict[str, Any], than: str) -> None:
    if not rows:
        return
    total, channels = rows[-1], [r for r in rows[:-1] if r["joined"]]
    line = f"新增会员{total['joined']}人，{change(total['joined'], then.get('joined', 0), than)}"
    if channels:
        top = channels[0]
        line += f"，最多来自{app_name(top['channel'])}（{top['joined']}人）"
    result.lines.append(line + f"；会员合并{total['merged']}次。")


def _campaigns(result: Analysis, now: dict[str, Any]) -> None:
    if not now or not (now["approved"] + now["rejected"] or now["coupons_issued"]):
        return
    parts = []
    if now["pass_rate"] is not None:
        parts.append(f"活动审核{now['approved'] + now['rejected']}次，通过率{now['pass_rate']:.0%}")
        if now["pass_rate"] < PASS_RATE_LOW:
            word = now.get("top_words", "").split("、")[0].split("×")[0]
            result.attention.append(f"活动审核通过率只有{now['pass_rate']:.0%}" + (f"，最常见的敏感词是“{word}”。" if word else "。"))
    if now.get("top_words"):
        parts.append(f"最常见的敏感词：{now['top_words']}")
    if now["coupons_issued"]:
        parts.append(f"优惠券发放{now['coupons_issued']}张，核销{now['coupons_verified']}张（{now['use_rate']:.1%}）")
    result.lines.append("；".join(parts) + "。")


def _sales(result: Analysis, now: dict[str, Any]) -> None:
    if not now or not (now["sales"] or now["winners"]):
        return
    line = f"秒杀{now['sales']}场，成交{now['winners']}单，{now['failed_buyers']}人抢购失败"
    result.lines.append(line + (f"，其中{now['consolations']}人失败多次。" if now["consolations"] else "。"))
    if now["consolations"]:
        result.attention.append(f"{now['consolations']}位秒杀失败多次的客户需要发放安慰券。")


def weekly_messages(store: Store, cfg: Config, until: str) -> list[tuple[dict[str, Any], str, str]]:
    """``[(message, department, lead)]``: the analysis of the seven days to ``until``, for each department with a lead.

    Sent as the digest is (type digest.analysis, the device's own message); one analysis for the whole shop,
    since a lead should see what changed around their department too.
    """
    since = (date.fromisoformat(until) - timedelta(days=6)).isoformat()
    text = analyse(store, since, until).text()
    out = []
    for dep_id, (_, dep) in cfg.departments().items():
        lead = next((s.id for s in dep.staff if s.lead), None)
        if lead is not None:
            message = {"id": f"analysis-{until}-{dep_id}", "type": "digest.analysis", "app": "speakerd", "content": text,
                       "data": {"since": since, "until": until}}
            out.append((message, dep_id, lead))
    return out
