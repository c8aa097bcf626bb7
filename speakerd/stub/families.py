"""The shop's systems as the stub models them: events that follow from what customers did before.

Each family keeps the state a real system would: a customer's spending (so
VIP is reached at ``VIP_THRESHOLD``, not drawn at random), the phone number
and channels a member joined from (so the same phone from another channel
is a merge), a campaign's review history, a flash-sale buyer's failures (a
consolation coupon after ``CONSOLATION_AFTER``). A family's ``next`` returns
one or more events: a paid order that crosses the threshold brings the
"VIP reached" event with it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "陈晓明", "林静", "黄磊", "何芳", "高强", "罗敏", "马丽"]
APPS = {"wechat-mall": "微信商城", "own-shop": "自营商城", "pos": "门店POS", "taobao": "淘宝", "jd": "京东", "tmall": "天猫"}
PRODUCTS = ["羊绒围巾", "保温杯", "蓝牙耳机", "有机大米5kg", "儿童绘本套装", "真丝睡衣", "空气炸锅", "跑步鞋"]
CAMPAIGNS = ["双十二满减", "会员日抽奖", "新品试用", "年货节预热"]
REFUND_REASONS = ["商品破损", "尺码不合适", "发货太慢", "与描述不符"]
SENSITIVE = ["最低价", "国家级", "第一品牌", "绝对有效"]
ABANDON_CAUSES = {"payment_failed": "支付失败", "timeout": "支付超时", "out_of_stock": "库存不足"}
SERVICES = ["订单服务", "支付网关", "库存服务", "会员服务"]
VIP_THRESHOLD = 1000.0  # the platform's rule: a customer whose spending reaches it is VIP
CONSOLATION_AFTER = 3  # failed flash-sale attempts after which a buyer is owed a consolation coupon


class Maker:
    """Makes events with a growing id and clock, and remembers the customers they are about."""

    def __init__(self, seed: int, start: datetime, population: int = len(NAMES), vip_threshold: float = VIP_THRESHOLD) -> None:
        self.rng = random.Random(seed)
        self.vip_threshold = vip_threshold
        self.count = 0
        self.clock = start
        self.population = population
        self.spent: dict[str, float] = {}
        self.order_ids: set[int] = set()

    def customer(self, i: int | None = None) -> dict[str, Any]:
        """One of the shop's customers, VIP once their spending so far reaches the threshold (VIP_THRESHOLD by default)."""
        i = self.rng.randrange(self.population) if i is None else i
        uid = f"u-{100 + i}"
        return {"id": uid, "name": NAMES[i % len(NAMES)], "tier": "vip" if self.spent.get(uid, 0.0) >= self.vip_threshold else "normal"}

    def phone(self, user: dict[str, Any]) -> str:
        return f"139{int(user['id'][2:]):04d}{sum(map(ord, user['name'])) % 10000:04d}"

    def event(self, type_: str, app: str, content_fn: Callable[[str], str], data: dict[str, Any] | None = None,
              user: dict[str, Any] | None = None) -> dict[str, Any]:
        self.count += 1
        self.clock += timedelta(seconds=self.rng.randint(5, 120))
        user = user or self.customer()
        return {"id": f"m-{self.count:06d}", "type": type_, "app": app, "created_at": self.clock.isoformat(),
                "user": user, "content": content_fn(user["name"]), "data": data or {}}

    def amount(self, low: float = 20, high: float = 3000) -> float:
        return round(self.rng.uniform(low, high), 2)

    def order_id(self) -> str:
        """A new order's number, never one given before (a real platform's are unique; the device keys orders by them).

        On a clash the next free number is taken, so the random sequence, and every other figure drawn from it, stays."""
        number = self.rng.randint(100000, 999999)
        while number in self.order_ids:
            number = number + 1 if number < 999999 else 100000
        self.order_ids.add(number)
        return str(number)

    def pick(self, seq: Iterable[Any]) -> Any:
        return self.rng.choice(list(seq))


# --- order monitoring ----------------------------------------------------------


def paid(m: Maker, user: dict[str, Any] | None = None, app: str | None = None, vip_event: bool = True) -> list[dict[str, Any]]:
    """A paid order, with how long the customer took to order; the VIP event when it crosses the threshold."""
    user, app = user or m.customer(), app or m.pick(APPS)
    oid, amount, minutes = m.order_id(), m.amount(), m.rng.randint(1, 40)
    before = m.spent.get(user["id"], 0.0)
    order = m.event("order.paid", app, lambda n: f"客户{n}已支付订单{oid}，实付{amount:.2f}元，用时{minutes}分钟下单",
                    {"order_id": oid, "amount": amount, "minutes_to_order": minutes}, user)
    m.spent[user["id"]] = before + amount
    if vip_event and before < m.vip_threshold <= before + amount:
        total = before + amount
        reached = m.customer(int(user["id"][2:]) - 100)
        return [order, m.event("member.vip_reached", app, lambda n: f"客户{n}累计消费{total:.2f}元，成为VIP客户",
                                {"spent": round(total, 2), "threshold": m.vip_threshold}, reached)]
    return [order]


def created(m: Maker) -> list[dict[str, Any]]:
    app, oid, amount = m.pick(APPS), m.order_id(), m.amount()
    return [m.event("order.created", app, lambda n: f"客户{n}在{APPS[app]}提交了订单{oid}，金额{amount:.2f}元",
                    {"order_id": oid, "amount": amount})]


def abandoned(m: Maker) -> list[dict[str, Any]]:
    """A alert: an order given up, and why; a customer who never paid before is an important prospect."""
    user, app, oid, amount = m.customer(), m.pick(APPS), m.order_id(), m.amount()
    cause = m.pick(ABANDON_CAUSES)
    grade = "important" if user["id"] not in m.spent else "customer"
    return [m.event("order.abandoned", app, lambda n: f"A预警：客户{n}提交订单{oid}后未完成支付，原因：{ABANDON_CAUSES[cause]}，金额{amount:.2f}元",
                    {"order_id": oid, "amount": amount, "cause": cause, "prospect": grade}, user)]


def browsed(m: Maker) -> list[dict[str, Any]]:
    """B alert: browsed without ordering; long enough (10 minutes) makes a prospect (B), else not (C)."""
    product, minutes, pages, price = m.pick(PRODUCTS), m.rng.randint(2, 25), m.rng.randint(1, 30), m.amount(30, 900)
    in_stock = m.rng.random() > 0.15
    grade = "B" if minutes >= 10 else "C"
    return [m.event("order.browsed", m.pick(APPS),
                    lambda n: f"B预警：客户{n}浏览{product}{minutes}分钟、{pages}个页面未下单，价格{price:.2f}元，{'有货' if in_stock else '缺货'}",
                    {"product": product, "minutes": minutes, "pages": pages, "price": price, "in_stock": in_stock, "prospect": grade})]


def refund(m: Maker) -> list[dict[str, Any]]:
    oid, amount, reason = m.order_id(), m.amount(), m.pick(REFUND_REASONS)
    return [m.event("order.refund", m.pick(APPS), lambda n: f"客户{n}申请退款，订单{oid}，金额{amount:.2f}元，原因：{reason}",
                    {"order_id": oid, "amount": amount})]


def appeal(m: Maker) -> list[dict[str, Any]]:
    oid, reason = m.order_id(), m.pick(REFUND_REASONS)
    return [m.event("order.appeal", m.pick(APPS), lambda n: f"客户{n}对订单{oid}发起申诉：{reason}", {"order_id": oid})]


def withdrawal(m: Maker) -> list[dict[str, Any]]:
    amount = m.rng.choice([500, 1200, 3000, 5000, 8800]) + 0.0
    return [m.event("finance.withdrawal", "own-shop", lambda n: f"{n}申请提现{amount:.2f}元，请审核", {"amount": amount})]


# --- members from many channels ------------------------------------------------


class Members:
    """New members by channel; the same phone seen again from another channel is a merge."""

    def __init__(self) -> None:
        self.channels: dict[str, list[str]] = {}

    def join(self, m: Maker, user: dict[str, Any] | None = None, app: str | None = None) -> list[dict[str, Any]]:
        user = user or m.customer()
        seen = self.channels.setdefault(user["id"], [])
        app = app or m.pick([a for a in APPS if a not in seen] or list(APPS))
        phone = m.phone(user)
        if not seen:
            seen.append(app)
            return [m.event("member.joined", app, lambda n: f"新会员{n}通过{APPS[app]}注册，手机{phone}",
                            {"channel": app, "phone": phone}, user)]
        first = seen[0]
        seen.append(app)
        return [m.event("member.merged", app,
                        lambda n: f"会员合并：{n}的手机{phone}已在{APPS[first]}注册，本次来自{APPS[app]}",
                        {"channel": app, "merged_with": first, "channels": list(seen), "phone": phone}, user)]


# --- campaigns -------------------------------------------------------------------


class Campaigns:
    """Each campaign goes draft → review → (failed, fixed, again) → passed → shared → coupons used, round after round."""

    STEPS = ["campaign.draft", "campaign.submitted", "campaign.reviewed", "campaign.shared", "coupon.verified"]

    def __init__(self) -> None:
        self.step: dict[str, int] = {}
        self.failures: dict[str, int] = {}

    def next(self, m: Maker, name: str | None = None, fail: bool | None = None) -> list[dict[str, Any]]:
        name = name or m.pick(CAMPAIGNS)
        step = self.STEPS[self.step.get(name, 0) % len(self.STEPS)]  # after its coupons are used, its next round
        if step == "campaign.reviewed":
            failed = fail if fail is not None else m.rng.random() < 0.3
            if failed:
                self.failures[name] = self.failures.get(name, 0) + 1
                self.step[name] = 1  # fixed and submitted again
                words = sorted(m.rng.sample(SENSITIVE, m.rng.randint(1, 2)))
                return [m.event("campaign.rejected", "wechat-mall", lambda n: f"活动“{name}”自动审核未通过，敏感词：{'、'.join(words)}",
                                {"campaign": name, "words": words, "attempt": self.failures[name]})]
            step = "campaign.approved"
        self.step[name] = self.step.get(name, 0) + 1
        coupons = m.rng.choice([100, 200, 500, 1000])
        texts = {
            "campaign.draft": lambda n: f"活动“{name}”草稿已由{n}录入",
            "campaign.submitted": lambda n: f"活动“{name}”已由{n}发布，等待审核",
            "campaign.approved": lambda n: f"活动“{name}”自动审核通过",
            "campaign.shared": lambda n: f"活动“{name}”已分享，发放优惠券{coupons}张",
            "coupon.verified": lambda n: f"客户{n}在门店核销优惠券（{name}）",
        }
        data: dict[str, Any] = {"campaign": name}
        if step == "campaign.shared":
            data["coupons"] = coupons
        return [m.event(step, "pos" if step == "coupon.verified" else "wechat-mall", texts[step], data)]


def service_alert(m: Maker) -> list[dict[str, Any]]:
    """The platform's own monitor: a service down or slow, for the tech department."""
    service, slow = m.pick(SERVICES), m.rng.random() < 0.6
    latency = m.rng.randint(3000, 15000)
    if slow:
        return [m.event("monitor.service_slow", "platform", lambda n: f"服务监控：{service}响应缓慢，平均{latency}毫秒",
                        {"service": service, "latency_ms": latency}, {"id": "monitor", "name": "监控"})]
    return [m.event("monitor.service_down", "platform", lambda n: f"服务监控：{service}无响应",
                    {"service": service}, {"id": "monitor", "name": "监控"})]


# --- flash sales -------------------------------------------------------------------


class FlashSales:
    """A sale starts, sells out, reports its results; a buyer failing ``consolation_after`` times is owed a coupon."""

    def __init__(self, consolation_after: int = CONSOLATION_AFTER) -> None:
        self.consolation_after = consolation_after
        self.failed: dict[tuple[str, str], int] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.sale: dict[str, str] = {}  # product → the sale running: '保温杯 11-24 14:00'

    def started(self, m: Maker, product: str, stock: int) -> list[dict[str, Any]]:
        event = m.event("flashsale.started", "wechat-mall", lambda n: f"秒杀“{product}”已开始，库存{stock}件",
                        {"product": product, "stock": stock}, {"id": "platform", "name": "平台"})
        self.sale[product] = event["data"]["sale"] = f"{product} {event['created_at'][5:16].replace('T', ' ')}"
        return [event]

    def attempt_failed(self, m: Maker, product: str, user: dict[str, Any] | None = None) -> None:
        """A failed attempt is no message of its own: it is counted for the sale's end."""
        user = user or m.customer()
        self.failed[(product, user["id"])] = self.failed.get((product, user["id"]), 0) + 1
        self.users[user["id"]] = user

    def ended(self, m: Maker, product: str, stock: int, minutes: int) -> list[dict[str, Any]]:
        """Sold out, the results, then one consolation per buyer who failed ``consolation_after`` times or more."""
        mine = {uid: n for (p, uid), n in self.failed.items() if p == product}
        platform, sale = {"id": "platform", "name": "平台"}, self.sale.pop(product, product)
        events = [
            m.event("flashsale.sold_out", "wechat-mall", lambda n: f"秒杀商品“{product}”已售罄，用时{minutes}分钟",
                    {"product": product, "sale": sale, "stock": stock, "minutes": minutes}, platform),
            m.event("flashsale.result", "wechat-mall",
                    lambda n: f"秒杀“{product}”结束：成交{stock}单，失败{sum(mine.values())}次（{len(mine)}人）",
                    {"product": product, "sale": sale, "winners": stock, "failures": sum(mine.values()), "failed_buyers": len(mine),
                     "repeat_failers": sum(1 for n in mine.values() if n >= 2)}, platform),
        ]
        for uid, failures in sorted(mine.items()):
            if failures >= self.consolation_after:
                events.append(m.event("flashsale.consolation", "wechat-mall", _consolation(product, failures),
                                      {"product": product, "sale": sale, "failures": failures}, self.users[uid]))
        for key in [k for k in self.failed if k[0] == product]:
            del self.failed[key]
        return events


def _consolation(product: str, failures: int) -> Callable[[str], str]:
    return lambda name: f"用户{name}秒杀“{product}”失败{failures}次，请发放安慰券"
